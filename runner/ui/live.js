// The live log of a run in progress: fetch what terraform printed since
// the last look, once a second, until the run ends.
(function () {
  var pre = document.getElementById("log");
  if (!pre) return;
  var from = parseInt(pre.dataset.from, 10) || 0;
  var enc = new TextEncoder();
  function poll() {
    fetch(pre.dataset.src + "?from=" + from, {credentials: "same-origin"}).then(function (r) {
      var state = r.headers.get("X-Strata-Run");
      if (!state) {
        // Not the log (the sign-in ran out): stop, and say so.
        document.getElementById("live").textContent = "the log stopped following: reload the page";
        return;
      }
      return r.text().then(function (t) {
        if (t) {
          pre.textContent += t;
          from += enc.encode(t).length;
          pre.scrollTop = pre.scrollHeight;
        }
        if (state === "running") {
          setTimeout(poll, 1000);
        } else {
          document.getElementById("live").textContent = "the run ended: reload for the log of each stack";
          document.getElementById("state").textContent = "ended";
        }
      });
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
