// Beatdesk inbox: live P1 alerts on every page, and reply templates.
// No inline script (the Content-Security-Policy forbids it): configuration comes from
// data attributes. Polls every 0.75 s, so a new P1 shows within about a second of being triaged.
(function () {
  "use strict";
  var POLL_MS = 750;
  var SEEN_KEY = "beatdesk.p1.seen";

  function seenIds() {
    try { return JSON.parse(sessionStorage.getItem(SEEN_KEY) || "[]"); } catch (e) { return []; }
  }
  function remember(ids) {
    try { sessionStorage.setItem(SEEN_KEY, JSON.stringify(ids.slice(-200))); } catch (e) { /* private mode */ }
  }

  var audio = null;
  function beep() {
    // Three short tones: distinct from any platform's notification sound.
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") { audio.resume(); }
      [0, 0.3, 0.6].forEach(function (offset) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.value = 0.25;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + offset);
        osc.stop(audio.currentTime + offset + 0.18);
      });
      document.body.dataset.alertsSounded = String(Number(document.body.dataset.alertsSounded || 0) + 1);
      return audio.state !== "suspended";
    } catch (e) { return false; }
  }

  function renderRisk(box, data) {
    var note = document.getElementById("live-risk");
    if (!data.at_risk) { if (note) { note.remove(); } return; }
    if (!note) {
      note = document.createElement("p");
      note.id = "live-risk";
      note.className = "live-risk";
      note.setAttribute("role", "status");
      box.parentNode.insertBefore(note, box.nextSibling);
    }
    note.textContent = "";
    var link = document.createElement("a");
    link.href = data.queue_url;
    link.dataset.testid = "at-risk";
    link.textContent = data.at_risk + (data.at_risk === 1 ? " conversation is" : " conversations are") + " about to miss (or past) the response target";
    note.appendChild(link);
  }

  var lastSignature = null;

  function render(box, items, soundBlocked, onAllowSound) {
    // Rebuild only when the set of P1s (or the sound prompt) changes: a rebuild every poll
    // would swallow clicks, move keyboard focus and make screen readers re-announce.
    var signature = JSON.stringify([soundBlocked, items.map(function (i) { return [i.id, i.text]; })]);
    if (signature === lastSignature) { return; }
    lastSignature = signature;
    box.textContent = "";
    if (!items.length) { box.hidden = true; document.title = document.title.replace(/^\(\d+ P1\) /, ""); return; }
    var heading = document.createElement("p");
    heading.className = "live-alerts-heading";
    heading.textContent = items.length === 1 ? "P1: threat to life. Needs a response now." : items.length + " P1s: threat to life. Need a response now.";
    box.appendChild(heading);
    var list = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = item.url;
      link.dataset.testid = "p1-alert";
      link.textContent = (item.author || "Someone") + " via " + item.account + ": " + item.text;
      li.appendChild(link);
      var since = new Date(Date.now() - item.waiting_seconds * 1000);
      var waited = document.createElement("span");
      waited.className = "live-waited";
      waited.textContent = " · waiting since " + since.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      li.appendChild(waited);
      list.appendChild(li);
    });
    box.appendChild(list);
    if (soundBlocked) {
      var enable = document.createElement("button");
      enable.type = "button";
      enable.className = "button-quiet";
      enable.textContent = "The browser blocked the alarm sound: click to allow it";
      enable.addEventListener("click", function () { beep(); onAllowSound(); enable.remove(); });
      box.appendChild(enable);
    }
    box.hidden = false;
    document.title = "(" + items.length + " P1) " + document.title.replace(/^\(\d+ P1\) /, "");
  }

  function startLive(box) {
    var url = box.dataset.liveUrl;
    var soundBlocked = false;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json", "X-Beatdesk-Poll": "1" }, cache: "no-store" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          var seen = seenIds();
          var fresh = data.p1.filter(function (item) { return seen.indexOf(item.id) === -1; });
          if (fresh.length) {
            soundBlocked = !beep();
            remember(seen.concat(fresh.map(function (item) { return item.id; })));
          }
          render(box, data.p1, soundBlocked, function () { soundBlocked = false; });
          renderRisk(box, data);
          box.dataset.updated = data.now;
        })
        .catch(function () { /* offline or signed out: try again next time */ })
        .finally(function () { window.setTimeout(poll, POLL_MS); });
    }
    poll();
  }

  function startTemplates() {
    var text = document.getElementById("id_text");
    var key = document.getElementById("id_template_key");
    if (!text || !key) { return; }
    document.querySelectorAll(".template-button").forEach(function (button) {
      button.addEventListener("click", function () {
        text.value = button.dataset.templateText;
        key.value = button.dataset.templateKey;
        document.querySelectorAll(".template-button").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
        button.setAttribute("aria-pressed", "true");
        text.focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("live-alerts");
    if (box) { startLive(box); }
    startTemplates();
  });
})();
