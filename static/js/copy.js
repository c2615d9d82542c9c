// Progressive enhancement of templates/staff/_copy_link.html: the read-only field selects its
// whole link when focused, and the "Kopírovat odkaz" button appears and copies it. Without this
// script the field is still there to select and copy by hand.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input.copy-source").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(input.id + "-stav");
    function done(ok) {
      status.textContent = ok ? "Odkaz je zkopírovaný do schránky." : "Odkaz se nepodařilo zkopírovat; označte jej a zkopírujte ručně.";
    }
    button.addEventListener("click", function () {
      input.focus();
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(false); });
      } else {
        // Plain http (development): the older command still copies the selection.
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        done(ok);
      }
    });
    button.hidden = false;
  });
});
