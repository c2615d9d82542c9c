// Reads a JSON array of .ics texts on stdin and prints, for each, what ical.js
// (Thunderbird's parser) makes of it, as JSON on stdout. Used by tests/test_calendar.py.
import ICAL from "ical.js";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => { data += chunk; });
  process.stdin.on("end", () => resolve(data));
}));

function time(t) {
  return {
    local: t.toString(),               // wall clock time in the event's zone
    utc: t.toJSDate().toISOString(),   // the instant, through the VTIMEZONE
    tzid: t.zone ? t.zone.tzid : null,
  };
}

const output = input.map((text) => {
  const calendar = new ICAL.Component(ICAL.parse(text));
  // Resolve TZIDs through the file's own VTIMEZONE, as a client without its
  // own copy of the zone (Outlook) has to.
  ICAL.TimezoneService.reset();
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
  }
  return {
    method: calendar.getFirstPropertyValue("method"),
    name: calendar.getFirstPropertyValue("name"),
    x_wr_calname: calendar.getFirstPropertyValue("x-wr-calname"),
    events: calendar.getAllSubcomponents("vevent").map((vevent) => {
      const event = new ICAL.Event(vevent);
      return {
        uid: event.uid,
        sequence: event.sequence,
        status: vevent.getFirstPropertyValue("status"),
        summary: event.summary,
        location: event.location,
        description: event.description,
        organizer: vevent.getFirstPropertyValue("organizer"),
        attendees: vevent.getAllProperties("attendee").length,
        attendee_cn: vevent.getAllProperties("attendee").map((p) => p.getParameter("cn")),
        url: vevent.getFirstPropertyValue("url"),
        // RFC 7986 CONFERENCE: ical.js keeps it with its parameters though it has no rule for it.
        conferences: vevent.getAllProperties("conference").map((p) => ({
          uri: p.getFirstValue(),
          type: p.type,  // from VALUE=URI: ical.js reads the value as a URI, not text
          feature: p.getParameter("feature"),
          label: p.getParameter("label"),
        })),
        start: time(event.startDate),
        end: time(event.endDate),
      };
    }),
  };
});
process.stdout.write(JSON.stringify(output));
