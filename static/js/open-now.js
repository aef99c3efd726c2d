// Which of a team's lines answers now, on the phone, with no signal: the same rule
// as plans/hours.py, read in Europe/London wall-clock time whatever the phone's
// own time zone. Each line carries `spans` ("day:start-end ..." in minutes from
// Monday 00:00, a span may run past midnight); a line with no spans (hours not
// readable) is never claimed to be open.
"use strict";

(function () {
  const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const DAY = 24 * 60;
  const WEEK = 7 * DAY;
  const london = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });

  function londonMinute(date) {
    const parts = {};
    for (const part of london.formatToParts(date)) parts[part.type] = part.value;
    return DAYS.indexOf(parts.weekday) * DAY + Number(parts.hour) * 60 + Number(parts.minute);
  }

  function isOpen(spans, minute) {
    for (const span of (spans || "").split(" ").filter(Boolean)) {
      const [day, range] = span.split(":");
      const [start, end] = range.split("-").map(Number);
      const from = Number(day) * DAY + start;
      const to = Number(day) * DAY + end;
      if ((from <= minute && minute < to) || (from <= minute + WEEK && minute + WEEK < to)) {
        return true;
      }
    }
    return false;
  }

  function openLine(lines, date) {
    const minute = londonMinute(date || new Date());
    return (lines || []).find((line) => isOpen(line.spans, minute)) || null;
  }

  // Fill `target` with the line open now: "Open now: <number> (which line)".
  function show(target, lines, date) {
    const line = openLine(lines, date);
    target.replaceChildren();
    if (!line) {
      target.dataset.which = "none";
      target.textContent = "No line of this team is known to be open now: phone your control room.";
      return null;
    }
    const link = document.createElement("a");
    link.className = "button";
    link.href = "tel:" + line.phone.replace(/[^\d+]/g, "");
    link.textContent = "Call " + line.label + ": " + line.phone;
    target.dataset.which = line.which;
    target.append(link);
    return line;
  }

  window.openNow = { openLine, londonMinute, show };

  document.addEventListener("DOMContentLoaded", () => {
    for (const item of document.querySelectorAll("[data-team-lines]")) {
      const target = item.querySelector("[data-open-line]");
      if (target) show(target, JSON.parse(item.dataset.teamLines));
    }
  });
})();
