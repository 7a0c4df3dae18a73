// The patient's hold countdown (book_review.html): the page already says "held until 10:42";
// this adds the minutes and seconds left, once a second. Without JavaScript the time stands.
// The count is not a live region: a screen reader would be interrupted every second.
(function () {
  "use strict";
  var el = document.querySelector("[data-held-until]");
  var out = document.querySelector(".book-countdown");
  if (!el || !out) { return; }
  var until = Date.parse(el.getAttribute("data-held-until"));
  if (isNaN(until)) { return; }
  function tick() {
    var left = Math.max(0, Math.floor((until - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    out.textContent = left === 0 ? " The time is no longer held." : " (" + m + " min " + (s < 10 ? "0" : "") + s + " s left)";
    if (left > 0) { window.setTimeout(tick, 1000); }
  }
  tick();
})();
