/* panelpress: copy buttons, and the player's chapters and transcript. Every page works without it: times are
   links into the audio, the transcript is plain text, the feed's address can be selected by hand. */
(function () {
  "use strict";
  var doc = document;

  // Seconds as the player shows them: cut to the second (9.88 s is 0:09), H:MM:SS past an hour.
  function clock(seconds) {
    var t = Math.floor(seconds + 0.0005), h = Math.floor(t / 3600), m = Math.floor(t % 3600 / 60), s = t % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  // "1:02:03", "62:03", "3723" or "3723.5" (and a media fragment's "npt:" or ",end") as seconds; NaN if none.
  function parseTime(text) {
    var parts = text.replace(/^npt:/, "").split(",")[0].split(":"), total = 0;
    if (parts.length > 3) return NaN;
    for (var i = 0; i < parts.length; i++) {
      if (!/^\d+(\.\d*)?$/.test(parts[i]) || (i < parts.length - 1 && parts[i].indexOf(".") >= 0)) return NaN;
      total = total * 60 + parseFloat(parts[i]);
    }
    return total;
  }

  function say(status, text) {
    if (!status) return;
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 60); // emptied first, so the same words are read again
  }

  function copy(text, status, done) {
    function byHand() {
      var field = doc.createElement("textarea"), ok = false;
      field.value = text;
      field.setAttribute("readonly", "");
      field.style.cssText = "position:fixed;top:0;opacity:0";
      doc.body.appendChild(field);
      field.select();
      try { ok = doc.execCommand("copy"); } catch (err) { ok = false; }
      field.remove();
      say(status, ok ? done : "Select and copy: " + text);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say(status, done); }, byHand);
    } else {
      byHand();
    }
  }

  function statusOf(element) {
    return element.parentNode.querySelector("[role=status]");
  }

  doc.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button.getAttribute("data-copy"), statusOf(button), "Copied: " + button.getAttribute("data-copy"));
    });
  });

  var player = doc.querySelector("audio[data-player]");
  if (!player) return;
  var chapters = [].slice.call(doc.querySelectorAll("ol.chapters li[data-start]"));
  var lines = [].slice.call(doc.querySelectorAll(".transcript p[data-start]"));
  var starts = function (items) { return items.map(function (item) { return parseFloat(item.getAttribute("data-start")); }); };
  var marks = { chapter: { items: chapters, starts: starts(chapters), shown: null }, line: { items: lines, starts: starts(lines), shown: null } };
  var wanted = null; // a time asked for before the player knew the audio's length
  var following = false;
  var folded = doc.querySelector(".transcript details");

  // The last item that starts at or before t (a binary search: transcripts run to thousands of lines).
  function at(mark, t) {
    var low = 0, high = mark.starts.length - 1, found = -1;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (mark.starts[middle] <= t + 0.0005) { found = middle; low = middle + 1; } else { high = middle - 1; }
    }
    return found < 0 ? null : mark.items[found];
  }

  function show(mark, t) {
    var item = at(mark, t);
    if (item === mark.shown) return false;
    if (mark.shown) { mark.shown.classList.remove("current"); mark.shown.removeAttribute("aria-current"); }
    if (item) { item.classList.add("current"); item.setAttribute("aria-current", "true"); }
    mark.shown = item;
    return true;
  }

  function follow() {
    var line = marks.line.shown;
    if (following && line && !line.hidden && (!folded || folded.open)) line.scrollIntoView({ block: "center" });
  }

  function update() {
    var t = wanted !== null ? wanted : player.currentTime;
    show(marks.chapter, t);
    if (show(marks.line, t)) follow();
  }

  function seek(t, play) {
    if (!(t >= 0)) return;
    if (player.readyState >= 1) {
      player.currentTime = Math.min(t, player.duration || t);
    } else {
      wanted = t; // before the metadata is there: set again once it is (and as the start position meanwhile)
      if (player.preload === "none") player.load();
      player.currentTime = t;
    }
    update();
    if (play) {
      var playing = player.play();
      if (playing && playing.catch) playing.catch(function () {}); // the browser wants a tap first: the time is set
    }
  }

  player.addEventListener("loadedmetadata", function () {
    if (wanted !== null) { player.currentTime = wanted; wanted = null; }
    update();
  });
  ["timeupdate", "seeked", "play"].forEach(function (name) { player.addEventListener(name, update); });

  doc.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-start]");
    if (!link || event.button || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return; // a new tab: the link's own way
    event.preventDefault();
    seek(parseFloat(link.getAttribute("data-start")), true);
  });

  function fromAddress() {
    var found = /(?:^#|&)t=([^&]*)/.exec(location.hash);
    if (found) seek(parseTime(decodeURIComponent(found[1])), false);
  }
  fromAddress();
  window.addEventListener("hashchange", fromAddress);

  var share = doc.querySelector("button[data-share]");
  if (share) {
    share.hidden = false;
    share.addEventListener("click", function () {
      var time = clock(wanted !== null ? wanted : player.currentTime);
      copy(location.href.split("#")[0] + "#t=" + time, statusOf(share), "Copied a link to " + time);
    });
  }

  var tools = doc.querySelector(".transcript-tools");
  if (tools && lines.length) {
    var field = tools.querySelector("input"), found = tools.querySelector("[role=status]"), button = tools.querySelector("[data-follow]");
    var texts = lines.map(function (line) { return line.textContent.toLowerCase(); });
    tools.hidden = false;
    field.addEventListener("input", function () {
      var query = field.value.trim().toLowerCase(), count = 0;
      lines.forEach(function (line, i) {
        line.hidden = query !== "" && texts[i].indexOf(query) < 0;
        if (!line.hidden) count++;
      });
      if (query && folded) folded.open = true;
      say(found, query ? count + (count === 1 ? " line matches" : " lines match") : "");
    });
    button.addEventListener("click", function () {
      following = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", String(following));
      if (following && folded) folded.open = true;
      follow();
    });
  }
})();
