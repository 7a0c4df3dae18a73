// The patient's hold countdown (book_review.html): the page already says "held until 10:42";
// this adds the minutes and seconds left, once a second. Without JavaScript the time stands.
(function () {
  "use strict";
  var el = document.querySelector("[data-held-until]");
  var out = document.querySelector(".book-countdown");
  if (!el || !out) { return; }
  var until = Date.parse(el.getAttribute("data-held-until"));
  if (isNaN(until)) { return; }
  var last = "";
  function tick() {
    var left = Math.max(0, Math.floor((until - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    // Said each minute (not each second) so screen readers are not flooded.
    var text = left === 0 ? " The time is no longer held." : " (" + m + " min " + (s < 10 ? "0" : "") + s + " s left)";
    var spoken = left === 0 ? "0" : String(m);
    if (spoken !== last) { out.setAttribute("aria-live", "polite"); last = spoken; } else { out.setAttribute("aria-live", "off"); }
    out.textContent = text;
    if (left > 0) { window.setTimeout(tick, 1000); }
  }
  tick();
})();
