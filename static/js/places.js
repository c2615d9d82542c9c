// Progressive enhancement: narrow the ORP list to the chosen kraj. Without
// JavaScript the list stays grouped by kraj and the server checks the pair.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form").forEach(function (form) {
    var region = form.querySelector("select[name=region]");
    var orp = form.querySelector("select[name=orp]");
    if (!region || !orp) return;
    function narrow() {
      var chosen = region.options[region.selectedIndex];
      var label = chosen && chosen.value ? chosen.text : null;
      orp.querySelectorAll("optgroup").forEach(function (group) {
        var keep = !label || group.label === label;
        group.hidden = !keep;
        group.disabled = !keep;
      });
      var selected = orp.options[orp.selectedIndex];
      if (selected && selected.parentNode.disabled) orp.value = "";
    }
    region.addEventListener("change", narrow);
    narrow();
  });
});
