/* panelpress: copy buttons, the player bar, chapters and transcript. Every page works without it: times are links
   into the audio, the transcript is text, the feed's address can be selected by hand. */
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
  var starts = function (items, name) { return items.map(function (item) { return parseFloat(item.getAttribute(name || "data-start")); }); };
  var marks = { chapter: { items: chapters, starts: starts(chapters), shown: null }, line: { items: lines, starts: starts(lines), shown: null } };
  var wanted = null; // a time asked for before the player knew the audio's length
  var resume = false, following = false; // resume: play once it is set (an edition switched while playing)
  var folded = doc.querySelector(".transcript details");
  var box = player.parentNode, bar = box.querySelector("[data-bar]");
  var ticks = bar ? [].slice.call(bar.querySelectorAll(".marks i")) : [];
  var titles = { items: ticks.map(function (tick) { return tick.dataset.title; }), starts: starts(ticks, "data-at") };
  var episode = player.dataset.episode;

  // Kept in the browser: where each episode was left, the edition, the speed.
  function kept(key, value) {
    try {
      if (value === undefined) return localStorage.getItem("panelpress." + key);
      localStorage[value === null ? "removeItem" : "setItem"]("panelpress." + key, value);
    } catch (err) { return null; } // refused (a private window)
  }

  // The last item that starts at or before t (a binary search: transcripts can be long).
  function index(found, t) {
    var low = 0, high = found.starts.length - 1, last = -1;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (found.starts[middle] <= t + 0.0005) { last = middle; low = middle + 1; } else { high = middle - 1; }
    }
    return last;
  }
  function at(mark, t) { var i = index(mark, t); return i < 0 ? null : mark.items[i]; }

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

  function now() { return wanted !== null ? wanted : player.currentTime; }

  function update() {
    var t = now();
    show(marks.chapter, t);
    if (show(marks.line, t)) follow();
    if (bar) paint(t);
  }

  function seek(t, play) {
    if (!(t >= 0)) return;
    if (player.readyState >= 1) {
      player.currentTime = Math.min(t, player.duration || t);
    } else {
      wanted = t; // set again once the metadata is there
      if (player.preload === "none") player.load();
      try { player.currentTime = t; } catch (err) { /* set once the metadata is there */ }
    }
    update();
    if (play) start();
  }

  function start() {
    var playing = player.play();
    if (playing && playing.catch) playing.catch(function () {}); // the browser wants a tap first
  }

  player.addEventListener("loadedmetadata", function () {
    if (wanted !== null) { player.currentTime = Math.min(wanted, player.duration || wanted); wanted = null; }
    if (resume) { resume = false; start(); }
    update();
  });
  ["timeupdate", "seeked", "play", "pause", "ratechange"].forEach(function (name) { player.addEventListener(name, update); });

  doc.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-start]");
    if (!link || event.button || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return; // a new tab
    event.preventDefault();
    seek(parseFloat(link.dataset.start), true);
  });

  function fromAddress() {
    var found = /(?:^#|&)t=([^&]*)/.exec(location.hash);
    if (found) seek(parseTime(decodeURIComponent(found[1])), false);
    return !!found;
  }

  // The player bar.
  var shown = {}, saved = 0, art = [], session = navigator.mediaSession;
  function paint(t) {
    var duration = player.duration || parseFloat(bar.dataset.duration) || 0;
    if (shown.playing !== !player.paused) {
      shown.playing = !player.paused;
      bar.classList.toggle("playing", shown.playing);
      play.setAttribute("aria-label", shown.playing ? "Pause" : "Play");
    }
    if (!dragging && Math.abs(position.value - t) > 0.2) position.value = t;
    var text = clock(t);
    if (text !== shown.text) {
      shown.text = text;
      time.textContent = text;
      position.setAttribute("aria-valuetext", text + " of " + clock(duration));
    }
    var i = index(titles, t), title = i < 0 ? "" : titles.items[i];
    if (title !== shown.title) { shown.title = title; chapter.textContent = title; describe(title); }
    if (duration && duration !== shown.duration) {
      shown.duration = duration;
      position.max = duration;
      ticks.forEach(function (tick, n) { tick.style.left = Math.min(100, 100 * titles.starts[n] / duration) + "%"; });
    }
    if (episode && !player.paused && Math.abs(t - saved) >= 5) remember();
    if (session && session.setPositionState && player.duration > 0) {
      try { session.setPositionState({ duration: player.duration, position: Math.min(player.currentTime, player.duration), playbackRate: player.playbackRate }); } catch (err) { /* refused */ }
    }
  }

  function remember() {
    saved = now();
    // the end, or the first seconds: nothing to come back to
    kept("position." + episode, saved > 5 && saved < (player.duration || Infinity) - 15 ? saved.toFixed(1) : null);
  }

  // The lock screen's and headset's player (Media Session): episode, show, chapter, cover.
  function describe(title) {
    if (!session || !window.MediaMetadata) return;
    session.metadata = new MediaMetadata({
      title: player.dataset.title,
      artist: player.dataset.show,
      album: title || player.dataset.show,
      artwork: art
    });
  }

  if (bar) {
    var play = bar.querySelector("[data-act=play]"), position = bar.querySelector("[data-seek]");
    var time = bar.querySelector("[data-time]"), chapter = bar.querySelector("[data-chapter]"), speed = bar.querySelector("[data-speed]");
    var editions = [].slice.call(bar.querySelectorAll("[data-edition]")), dragging = false;
    art = (player.dataset.artwork || "").split(",").filter(Boolean).map(function (entry) {
      var parts = entry.split(" ");
      return { src: new URL(parts[0], location.href).href, sizes: parts[1] + "x" + parts[1], type: "image/jpeg" };
    });
    box.classList.add("enhanced");
    player.removeAttribute("controls");
    bar.hidden = false;

    var toggle = function () { if (player.paused) start(); else player.pause(); };
    var skip = function (seconds) { seek(Math.max(0, Math.min(now() + seconds, player.duration || Infinity)), false); };
    var rate = function (value) {
      player.playbackRate = player.defaultPlaybackRate = parseFloat(value) || 1;
      speed.value = String(player.playbackRate);
      kept("speed", player.playbackRate === 1 ? null : String(player.playbackRate));
    };
    play.addEventListener("click", toggle);
    [["back", -15], ["forward", 30]].forEach(function (pair) {
      bar.querySelector("[data-act=" + pair[0] + "]").addEventListener("click", function () { skip(pair[1]); });
    });
    speed.addEventListener("change", function () { rate(speed.value); });
    position.addEventListener("input", function () { dragging = true; time.textContent = clock(parseFloat(position.value)); });
    position.addEventListener("change", function () { dragging = false; seek(parseFloat(position.value), false); });
    if (kept("speed")) rate(kept("speed"));

    // One <audio> plays either edition: a switch keeps the time (and plays on); the seek links follow (for a new tab).
    var choose = function (button, keep) {
      var src = button.dataset.src;
      editions.forEach(function (other) { other.setAttribute("aria-pressed", String(other === button)); });
      if (keep) kept("edition", button.dataset.edition);
      if (player.getAttribute("src") === src) return;
      var t = now(), playing = !player.paused, from = player.getAttribute("src");
      player.pause();
      wanted = t; resume = playing;
      player.setAttribute("src", src);
      player.load();
      doc.querySelectorAll("a.seek").forEach(function (link) {
        var href = link.getAttribute("href");
        if (href.indexOf(from + "#") === 0) link.setAttribute("href", src + href.slice(from.length));
      });
      update();
    };
    editions.forEach(function (button) {
      button.addEventListener("click", function () { choose(button, true); });
      if (button.dataset.edition === kept("edition")) choose(button, false);
    });

    // Keys no control wants: Space or K play/pause, J or ← back 15 s, L or → on 30 s, < and > the speed.
    doc.addEventListener("keydown", function (event) {
      var target = event.target, name = target.tagName;
      if (event.ctrlKey || event.metaKey || event.altKey || target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON|SUMMARY|A)$/.test(name)) return;
      var key = event.key.toLowerCase(), options = speed.options, step = speed.selectedIndex + (key === ">" ? 1 : -1);
      if (key === " " || key === "k") toggle();
      else if (key === "j" || key === "arrowleft") skip(-15);
      else if (key === "l" || key === "arrowright") skip(30);
      else if (key === "<" || key === ">") rate(options[Math.max(0, Math.min(options.length - 1, step))].value);
      else return;
      event.preventDefault();
    });

    if (session) {
      var chapterAt = function (offset) {
        var i = index(titles, now()) + offset;
        if (offset < 0 && i >= 0 && now() - titles.starts[i + 1] > 3) i++; // to this chapter's start first
        return titles.starts[Math.max(0, i)];
      };
      [
        ["play", start],
        ["pause", function () { player.pause(); }],
        ["seekbackward", function (details) { skip(-(details.seekOffset || 15)); }],
        ["seekforward", function (details) { skip(details.seekOffset || 30); }],
        ["seekto", function (details) { seek(details.seekTime, false); }],
        ["previoustrack", ticks.length ? function () { seek(chapterAt(-1), false); } : null],
        ["nexttrack", ticks.length ? function () { seek(chapterAt(1), false); } : null]
      ].forEach(function (pair) {
        try { session.setActionHandler(pair[0], pair[1]); } catch (err) { /* an action this browser lacks */ }
      });
    }
    player.addEventListener("pause", function () { if (episode) remember(); });
    player.addEventListener("ended", function () { if (episode) kept("position." + episode, null); });
    window.addEventListener("pagehide", function () { if (episode && player.played.length) remember(); });
    describe("");
  }

  // Where to start: the address's #t=, else where the listener left this episode.
  if (!fromAddress() && episode && parseFloat(kept("position." + episode)) > 0) {
    seek(parseFloat(kept("position." + episode)), false);
    saved = now();
  }
  update();
  window.addEventListener("hashchange", fromAddress);

  var share = doc.querySelector("button[data-share]");
  if (share) {
    share.hidden = false;
    share.addEventListener("click", function () {
      var time = clock(now());
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
