// Aegent Quest web client: plain modern JavaScript over the aegent.json subprotocol.
// No build step and no dependencies; see docs/protocol.md for every message and event.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const MAX_ENTRIES = 5000;          // scrollback cap (entries in the log)
  const MAX_HISTORY = 200;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const MAX_GATEWAYS = 16;           // addresses kept from a hello's `gateways`
  const MAX_URL_CHARS = 2048;        // longer "URLs" in `gateways` are ignored
  const STICK_PX = 40;               // "at the bottom" if within this many pixels
  const CELL = 30;                   // map grid spacing (SVG units)
  const BOX = 14;                    // map room size
  const MAP_MIN_W = 180, MAP_MIN_H = 120;   // map viewBox: at least this (about 6 x 4 cells)
  const MAP_MAX_W = 330, MAP_MAX_H = 220;   // beyond this it follows you instead of fitting all

  // Planar offsets (x right, y down) for map placement; up/down change the level.
  const DIRS = {
    north: [0, -1], south: [0, 1], east: [1, 0], west: [-1, 0],
    northeast: [1, -1], northwest: [-1, -1], southeast: [1, 1], southwest: [-1, 1],
  };
  const OPPOSITE = {
    north: "south", south: "north", east: "west", west: "east", up: "down", down: "up",
    northeast: "southwest", southwest: "northeast", northwest: "southeast", southeast: "northwest",
  };
  const SENSITIVE = /^\s*password\b/i;   // never echoed nor kept in history

  const el = {
    log: $("log"), jump: $("jump"), status: $("status"), reconnectNow: $("reconnect-now"),
    retryIn: $("retry-in"),
    colour: $("colour-toggle"), login: $("login"), loginName: $("login-name"),
    loginPassword: $("login-password"), loginClass: $("login-class"),
    classField: $("class-field"), loginError: $("login-error"), loginSubmit: $("login-submit"),
    cmd: $("cmd"), line: $("line"), roomName: $("room-name"), roomExits: $("room-exits"),
    roomHere: $("room-here"), vitalsExtra: $("vitals-extra"), foe: $("foe"), map: $("map"),
    mapSummary: $("map-summary"), mapList: $("map-list"),
  };

  const state = {
    ws: null,
    home: null,             // the page's own WebSocket address
    url: null,              // the address dialled now (or next)
    addresses: [],          // where to reconnect, round-robin: hello's gateways + home
    helloHere: false,       // the connection dialled last said hello (it did not fail)
    attempts: [],           // the last addresses dialled (a peek for tests)
    authed: false,
    creds: null,            // {name, password}: in memory only, for automatic re-login
    autoLogin: false,       // the login in flight is an automatic one
    loginTry: null,         // the credentials of the form login in flight
    character: null,
    greeted: false,
    retries: 0,
    retryTimer: null,
    retryAt: 0,
    countdown: null,
    nextId: 1,
    pending: new Map(),     // command id -> the line sent
    history: [],
    histPos: 0,
    draft: "",
    stick: true,
    map: { rooms: new Map(), current: null },
    here: { characters: [], items: [] },   // the "Here" list (followRoom keeps it current)
    exits: { id: null, exits: {}, doors: {} },   // the exit buttons (followDoor too)
    fighting: null,         // the name of your foe, from vitals
    foeCondition: null,     // how hurt it is, from the last blow that struck it
  };

  // ---- output ------------------------------------------------------------------

  // ANSI SGR -> spans with classes (never inline colours, so the colour toggle is pure CSS).
  const SGR_RE = /\x1b\[([0-9;]*)m/g;
  const CTRL_RE = /\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

  function ansiFragment(text) {
    const frag = document.createDocumentFragment();
    let style = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false };
    let last = 0;
    const emit = (chunk) => {
      chunk = chunk.replace(CTRL_RE, "");
      if (!chunk) return;
      const cls = [];
      if (style.fg !== null) cls.push(`ansi-fg-${style.fg}`);
      if (style.bg !== null) cls.push(`ansi-bg-${style.bg}`);
      if (style.bold) cls.push("ansi-bold");
      if (style.dim) cls.push("ansi-dim");
      if (style.italic) cls.push("ansi-italic");
      if (style.underline) cls.push("ansi-underline");
      if (!cls.length) { frag.appendChild(document.createTextNode(chunk)); return; }
      const span = document.createElement("span");
      span.className = cls.join(" ");
      span.textContent = chunk;
      frag.appendChild(span);
    };
    SGR_RE.lastIndex = 0;
    let m;
    while ((m = SGR_RE.exec(text)) !== null) {
      emit(text.slice(last, m.index));
      last = SGR_RE.lastIndex;
      const codes = m[1] === "" ? [0] : m[1].split(";").map((n) => parseInt(n, 10) || 0);
      for (let i = 0; i < codes.length; i++) {
        const c = codes[i];
        if (c === 0) style = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false };
        else if (c === 1) style.bold = true;
        else if (c === 2) style.dim = true;
        else if (c === 3) style.italic = true;
        else if (c === 4) style.underline = true;
        else if (c === 22) { style.bold = false; style.dim = false; }
        else if (c === 23) style.italic = false;
        else if (c === 24) style.underline = false;
        else if (c >= 30 && c <= 37) style.fg = c - 30;
        else if (c >= 90 && c <= 97) style.fg = c - 90 + 8;
        else if (c === 39) style.fg = null;
        else if (c >= 40 && c <= 47) style.bg = c - 40;
        else if (c >= 100 && c <= 107) style.bg = c - 100 + 8;
        else if (c === 49) style.bg = null;
        else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
          // 256 colours: keep the 16 basic ones, map the rest to the nearest basic slot.
          const n = codes[i + 2] ?? 7;
          const basic = n < 16 ? n : 7;
          if (c === 38) style.fg = basic; else style.bg = basic;
          i += 2;
        } else if ((c === 38 || c === 48) && codes[i + 1] === 2) {
          i += 4; // truecolour: ignored (text stays readable in the default colour)
        }
      }
    }
    emit(text.slice(last));
    return frag;
  }

  function atBottom() {
    const log = el.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < STICK_PX;
  }

  // Our own scrolling fires scroll events too, a frame later, when more output may
  // already have arrived: only a scroll we did not make can unstick the log.
  let autoScrolled = false;
  el.log.addEventListener("scroll", () => {
    if (autoScrolled) { autoScrolled = false; if (state.stick) return; }
    if (logSize() !== lastLogSize) { keepPlace(); return; }  // the layout moved, not the reader
    state.stick = atBottom();
    el.jump.hidden = state.stick;   // away from the end, the way back is in view
  });

  // A resize (a window made narrower, a phone turned, the keyboard opening) changes the
  // log's size and reflows its text: a log that was at the end stays at the end, and one
  // that was not keeps the "jump to the latest" button in view.
  let lastLogSize = "";
  function logSize() { return `${el.log.clientWidth}x${el.log.clientHeight}`; }
  function keepPlace() {
    lastLogSize = logSize();
    if (!state.stick && atBottom()) state.stick = true;
    if (state.stick) { scrollToEnd(); el.jump.hidden = true; }
    else el.jump.hidden = false;
  }
  if (window.ResizeObserver) new ResizeObserver(keepPlace).observe(el.log);
  window.addEventListener("resize", keepPlace);
  el.jump.addEventListener("click", () => {
    el.log.scrollTop = el.log.scrollHeight;
    state.stick = true;
    el.jump.hidden = true;
    el.line.focus();
  });

  // Scrolling waits for the next frame, so a burst of output costs one layout, not one each.
  let scrollQueued = false;
  function scrollToEnd() {
    scrollQueued = false;
    const end = el.log.scrollHeight - el.log.clientHeight;
    if (state.stick && Math.abs(el.log.scrollTop - end) > 1) {
      autoScrolled = true;  // a scroll event will follow; it is ours
      el.log.scrollTop = end;
    }
  }

  function append(node) {
    el.log.appendChild(node);
    let extra = el.log.childElementCount - MAX_ENTRIES;
    while (extra-- > 0) el.log.firstElementChild.remove();
    if (!state.stick) el.jump.hidden = false;
    else if (!scrollQueued) { scrollQueued = true; requestAnimationFrame(scrollToEnd); }
  }

  // One entry in the log: `cls` names what it is (event name, error, echo...).
  function print(text, cls) {
    const div = document.createElement("div");
    div.className = "entry" + (cls ? " " + cls : "");
    div.appendChild(ansiFragment(String(text)));
    append(div);
    return div;
  }

  // The server wraps descriptions at 78 columns for terminals; here the page wraps them,
  // so put the description back on one line when the event carries it.
  function reflow(text, description) {
    text = String(text);
    if (typeof description !== "string" || !description.includes(" ")) return text;
    const words = description.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const re = new RegExp(words.join("\\s+"));
    return text.replace(re, () => description.trim());
  }

  function printRoom(text) {
    const div = document.createElement("div");
    div.className = "entry ev-room";
    const lines = String(text).split("\n");
    lines.forEach((line, i) => {
      const span = document.createElement("span");
      if (i === 0) span.className = "room-name";
      else if (line.startsWith("[Exits:")) span.className = "room-exits";
      span.appendChild(ansiFragment(line));
      div.appendChild(span);
      if (i < lines.length - 1) div.appendChild(document.createTextNode("\n"));
    });
    append(div);
  }

  // ---- connection ------------------------------------------------------------------

  function wsUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  }

  function setStatus(text, kind) {
    el.status.textContent = text;
    el.status.dataset.kind = kind || "";
  }

  function send(msg) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
    state.ws.send(JSON.stringify(msg));
    return true;
  }

  // The hello's `gateways` as addresses to dial: strings that parse as ws: or wss: URLs
  // (only wss: on an https page: the browser opens nothing else there), without user
  // info, at most MAX_GATEWAYS of them, each once; anything else is ignored.
  function gatewayList(raw) {
    const out = [];
    if (!Array.isArray(raw)) return out;
    const schemes = location.protocol === "https:" ? ["wss:"] : ["ws:", "wss:"];
    for (const item of raw) {
      if (out.length >= MAX_GATEWAYS) break;
      if (typeof item !== "string" || item.length > MAX_URL_CHARS) continue;
      let url;
      try { url = new URL(item); } catch { continue; }
      if (!schemes.includes(url.protocol) || !url.hostname || url.username || url.password) continue;
      url.hash = "";   // a WebSocket URL may not have one
      if (!out.includes(url.href)) out.push(url.href);
    }
    return out;
  }

  // Where to reconnect, in turn: the hello's list (or, when it is empty, the page's own
  // address, as with a single server), then the page's own and the one we are on, if
  // the list left them out.
  function remember(gateways) {
    const ring = gateways.slice();
    for (const url of [state.home, state.url]) if (!ring.includes(url)) ring.push(url);
    state.addresses = ring;
  }

  // The attempt on this address failed: the next time, dial the next one in the list.
  function moveOn() {
    const ring = state.addresses;
    const next = ring[(ring.indexOf(state.url) + 1) % ring.length];
    if (!next || next === state.url) return;
    state.url = next;
    print(`Trying another server: ${next}`, "sys");
  }

  function connect() {
    clearTimeout(state.retryTimer);
    clearInterval(state.countdown);
    el.retryIn.textContent = "";
    state.retryTimer = null;
    el.reconnectNow.hidden = true;
    const url = state.url;
    const where = state.addresses.length > 1 ? ` to ${url}` : "";
    setStatus(state.retries ? `Reconnecting${where}…` : "Connecting…", "busy");
    state.helloHere = false;
    state.attempts.push(url);
    if (state.attempts.length > MAX_GATEWAYS) state.attempts.shift();
    let ws;
    try {
      ws = new WebSocket(url, ["aegent.json"]);
    } catch (err) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    ws.onmessage = (e) => {
      if (state.ws !== ws) return;
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      handle(msg);
    };
    ws.onclose = (e) => {
      if (state.ws !== ws) return;
      state.ws = null;
      closed(e);
    };
  }

  function closed(e) {
    const wasPlaying = state.authed;
    state.authed = false;
    state.pending.clear();
    el.cmd.dataset.offline = "true";
    // A clean close with a reason is the server saying goodbye (quit, taken over, idle):
    // reconnecting would fight it. Anything else (a drop, a restart) is retried.
    const deliberate = e.code === 1000;
    if (deliberate) {
      const why = e.reason ? ` (${e.reason})` : "";
      if (e.reason === "quit") { state.creds = null; }   // next time: the login form
      // The character has left: no command line to type into, no bars of someone gone.
      el.cmd.hidden = true;
      clearCharacter();
      setMode("closed");
      setStatus(`Disconnected${why}.`, "down");
      print(`Disconnected${why}.`, "sys");
      el.reconnectNow.textContent = "Connect again";
      el.reconnectNow.hidden = false;
      state.retries = 0;
      return;
    }
    if (wasPlaying) print("The connection was lost; reconnecting…", "sys");
    scheduleReconnect();
  }

  // A lost connection is tried again at its address first; a failed attempt moves on.
  function scheduleReconnect() {
    if (!state.helloHere) moveOn();
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** state.retries);
    const delay = Math.round(exp / 2 + Math.random() * exp / 2);   // "equal jitter"
    state.retries += 1;
    state.retryAt = Date.now() + delay;
    state.retryTimer = setTimeout(connect, delay);
    el.reconnectNow.textContent = "Reconnect now";
    el.reconnectNow.hidden = false;
    // The status (a live region) is announced once; the countdown beside it is visual only.
    setStatus("Connection lost. Reconnecting…", "down");
    const tick = () => {
      const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
      el.retryIn.textContent = `in ${s} s`;
    };
    tick();
    clearInterval(state.countdown);
    state.countdown = setInterval(tick, 1000);
  }

  el.reconnectNow.addEventListener("click", () => {
    state.retries = 0;
    connect();
  });
  window.addEventListener("online", () => { if (state.retryTimer) connect(); });

  // ---- messages from the server --------------------------------------------------

  function handle(msg) {
    switch (msg.type) {
      case "hello": return onHello(msg);
      case "auth": return onAuth(msg);
      case "event": return onEvent(msg);
      case "events": return onEvents(msg);
      case "result": return onResult(msg);
      case "error": return onError(msg);
      default: return undefined;  // pong, tools...: not used by this page
    }
  }

  // Several events in one message (the page asks for them: `batch` at login): each is
  // handled as if it had come alone, with its own seq (the message's for the first, one
  // more for each next). A server that predates them sends `event` messages instead.
  function onEvents(msg) {
    const list = Array.isArray(msg.events) ? msg.events : [];
    list.forEach((item, i) => {
      if (!item || typeof item !== "object") return;
      const seq = typeof msg.seq === "number" ? msg.seq + i : undefined;
      handle({ ...item, type: "event", seq });
    });
  }

  function onHello(msg) {
    state.helloHere = true;
    remember(gatewayList(msg.gateways));
    setStatus(state.url === state.home ? "Connected." : `Connected to ${state.url}.`, "up");
    el.reconnectNow.hidden = true;
    fillClasses(msg.classes || {});
    if (!state.greeted && msg.motd) print(msg.motd, "motd");
    state.greeted = true;
    if (state.creds) {
      state.autoLogin = true;
      setStatus(`Connected. Logging in as ${state.creds.name}…`, "busy");
      send({ type: "login", name: state.creds.name, password: state.creds.password, id: "relogin",
             batch: true });
    } else {
      showLogin();
    }
  }

  function onAuth(msg) {
    const pendingCreds = state.loginTry;
    state.loginTry = null;
    el.loginSubmit.disabled = false;
    if (msg.ok) {
      const auto = state.autoLogin;
      state.autoLogin = false;
      state.authed = true;
      state.retries = 0;
      if (pendingCreds) state.creds = pendingCreds;
      const ch = msg.character || {};
      if (state.character && state.character.name !== ch.name) resetMap();
      state.character = ch;
      document.title = `${ch.name} – Aegent Quest`;
      setStatus(`Playing as ${ch.name}.`, "up");
      el.login.hidden = true;
      el.cmd.hidden = false;
      setMode("play");
      delete el.cmd.dataset.offline;
      el.loginPassword.value = "";
      if (auto) {
        print(`Reconnected as ${ch.name}.`, "sys");   // focus stays where the reader left it
      } else {
        print(msg.created ? `Welcome, ${ch.name}! Type 'help' for the commands.`
          : `Welcome back, ${ch.name}.`, "sys");
        el.line.focus();
      }
      return;
    }
    const err = msg.error || {};
    if (state.autoLogin) {
      state.autoLogin = false;
      state.creds = null;
      print(`Could not log back in: ${err.message || err.code}`, "error");
    }
    showLogin(err.message || "That did not work.");
  }

  function onResult(msg) {
    const line = state.pending.get(msg.id);
    state.pending.delete(msg.id);
    if (msg.ok) {
      const m = line && /^\s*password\s+(\S+)\s+(\S+)/i.exec(line);
      if (m && state.creds) state.creds.password = m[2];   // keep re-login working
      return;
    }
    const err = msg.error || {};
    print(err.message || err.code || "That did not work.", "error");
  }

  function onError(msg) {
    if (msg.id !== undefined) state.pending.delete(msg.id);
    if (!el.login.hidden && (msg.code === "not_authenticated")) return;
    print(msg.message || msg.code, "error");
  }

  function onEvent(msg) {
    const data = msg.data || {};
    switch (msg.name) {
      case "vitals":
        updateVitals(data);
        return;  // the bars show it; printing every regeneration step would flood the log
      case "room":
        updateRoom(data);
        mapVisit(data);
        if (msg.text) printRoom(reflow(msg.text, data.description));
        return;
      default: {
        if (followRoom(msg.name, data)) renderHere();
        if (msg.name === "door_changed") followDoor(data);
        followFoe(msg.name, data);
        if (!msg.text) return;
        const level = msg.name === "message" && data.level ? ` level-${data.level}` : "";
        const cls = `ev-${String(msg.name).replace(/[^a-z0-9_-]/gi, "")}${level}`;
        const blow = blowKind(msg.name, data);
        if (!blow) { print(reflow(msg.text, data.description), cls); return; }
        printBlow(msg.text, `${cls} blow blow-${blow}`, blow);
      }
    }
  }

  // ---- combat ---------------------------------------------------------------------

  // A blow as you see it: one you dealt, one you took, a miss (either way), or one
  // between others. Null for what is not a blow.
  function blowKind(name, d) {
    const me = state.character ? state.character.name : null;
    let actor, target, missed;
    if (name === "hit_landed") { actor = d.actor; target = d.target; missed = !d.damage; }
    else if (name === "spell_hit") { actor = d.actor; target = d.target; missed = !d.damage; }
    else if (name === "skill_used") { actor = d.actor; target = d.target; missed = !d.success; }
    else if (name === "dodged") { actor = d.attacker; target = d.actor; missed = true; }
    else return null;
    if (actor !== me && target !== me) return "other";
    if (missed) return "miss";
    return actor === me ? "dealt" : "taken";
  }

  // The cue before a blow needs no colour: a shape for the eye (the sentence itself says
  // "You hit", "hits you" or "miss", so screen readers skip the shape and read the words).
  const BLOW_CUE = { dealt: "\u25b6", taken: "\u25c0", miss: "\u25cb", other: "\u00b7" };
  const BLOW_LABEL = { dealt: "You hit", taken: "You are hit", miss: "A miss", other: "Others fight" };

  function printBlow(text, cls, blow) {
    const div = document.createElement("div");
    div.className = "entry " + cls;
    const cue = document.createElement("span");
    cue.className = "cue";
    cue.setAttribute("aria-hidden", "true");
    cue.title = BLOW_LABEL[blow];
    cue.textContent = BLOW_CUE[blow] + " ";
    div.appendChild(cue);
    div.appendChild(ansiFragment(String(text)));
    append(div);
  }

  // The foe line under the bars: whom you fight and how hurt it is, from the blows.
  function followFoe(name, d) {
    if (!["hit_landed", "spell_hit", "skill_used"].includes(name)) return;
    const me = state.character ? state.character.name : null;
    if (!d.condition || d.actor !== me || d.target !== state.fighting) return;
    state.foeCondition = d.condition;
    showFoe();
  }

  function showFoe() {
    const foe = state.fighting;
    el.foe.hidden = !foe;
    if (!foe) { el.foe.textContent = ""; delete el.foe.dataset.condition; return; }
    const how = state.foeCondition && state.foeCondition !== "dead" ? ` (${state.foeCondition})` : "";
    el.foe.textContent = `Foe: ${foe}${how}`;
    el.foe.dataset.condition = state.foeCondition || "";
  }

  // ---- login form -------------------------------------------------------------------

  function fillClasses(classes) {
    const keep = el.loginClass.value;
    el.loginClass.replaceChildren();
    for (const [id, name] of Object.entries(classes)) {
      const opt = document.createElement("option");
      opt.value = id;
      opt.textContent = name;
      el.loginClass.appendChild(opt);
    }
    if (keep && classes[keep]) el.loginClass.value = keep;
  }

  function loginMode() {
    return el.login.querySelector('input[name="mode"]:checked').value;
  }

  function syncMode() {
    const register = loginMode() === "register";
    el.classField.hidden = !register;
    el.loginSubmit.textContent = register ? "Create character" : "Log in";
    el.loginPassword.autocomplete = register ? "new-password" : "current-password";
  }

  function showLogin(error) {
    el.cmd.hidden = true;
    el.login.hidden = false;
    setMode("login");
    el.loginError.textContent = error || "";
    syncMode();
    // The whole form in view (on a phone the page scrolls), then the caret in it.
    el.login.scrollIntoView({ block: "nearest" });
    (el.loginName.value ? el.loginPassword : el.loginName).focus({ preventScroll: true });
  }

  // What the page is for now: "login" (the form), "play", or "closed" (after a goodbye).
  // The stylesheet lays the page out by it (on a phone the form gets the room it needs).
  function setMode(mode) {
    document.body.dataset.mode = mode;
  }

  // Forget what the panels show of a character who has left the game.
  function clearCharacter() {
    for (const kind of ["hp", "mana", "moves", "xp"]) {
      setBar(kind, 0, 0, "none");
      $(`${kind}-value`).textContent = "–";
    }
    el.vitalsExtra.textContent = "";
    el.vitalsExtra.dataset.fighting = "false";
    state.fighting = null;
    state.foeCondition = null;
    showFoe();
    el.roomName.textContent = "Nowhere yet";
    state.exits = { id: null, exits: {}, doors: {} };
    el.roomExits.replaceChildren();
    state.here = { characters: [], items: [] };
    el.roomHere.replaceChildren();
    resetMap();
    drawMap();
    el.mapSummary.textContent = "No rooms explored yet.";
    el.mapList.replaceChildren();
    el.line.value = "";
  }

  el.login.addEventListener("change", (e) => { if (e.target.name === "mode") syncMode(); });
  el.login.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = el.loginName.value.trim();
    const password = el.loginPassword.value;
    if (name.length < 3) { el.loginError.textContent = "Your name needs 3 letters or more."; el.loginName.focus(); return; }
    if (password.length < 8) { el.loginError.textContent = "The password needs 8 characters or more."; el.loginPassword.focus(); return; }
    const register = loginMode() === "register";
    const msg = register
      ? { type: "register", name, password, class: el.loginClass.value, id: "register", batch: true }
      : { type: "login", name, password, id: "login", batch: true };
    if (!send(msg)) { el.loginError.textContent = "Not connected yet; try again in a moment."; return; }
    state.loginTry = { name, password };
    el.loginError.textContent = "";
    el.loginSubmit.disabled = true;
    setStatus(register ? "Creating your character…" : "Logging in…", "busy");
  });

  // ---- command line -------------------------------------------------------------

  function submitLine(line, { remember = true } = {}) {
    const sensitive = SENSITIVE.test(line);
    if (remember && line.trim() && !sensitive && state.history[state.history.length - 1] !== line) {
      state.history.push(line);
      if (state.history.length > MAX_HISTORY) state.history.shift();
    }
    state.histPos = state.history.length;
    state.draft = "";
    if (!line.trim()) return;
    if (!state.authed) {
      print("Not connected: the command was not sent.", "error");
      return;
    }
    state.stick = true;   // you act, you read what follows
    print("> " + (sensitive ? line.replace(/^(\s*\S+).*$/, "$1 ********") : line), "echo");
    const id = state.nextId++;
    state.pending.set(id, line);
    send({ type: "command", line, id });
  }

  el.cmd.addEventListener("submit", (e) => {
    e.preventDefault();
    const line = el.line.value;
    if (!state.authed) {
      print("Not connected: the command was not sent.", "error");
      return;  // keep the line in the box for when we are back
    }
    el.line.value = "";
    submitLine(line);
  });

  el.line.addEventListener("keydown", (e) => {
    if (e.key === "ArrowUp" && !e.altKey && !e.ctrlKey && !e.metaKey) {
      if (state.histPos === 0) { e.preventDefault(); return; }
      if (state.histPos === state.history.length) state.draft = el.line.value;
      state.histPos -= 1;
      el.line.value = state.history[state.histPos];
      e.preventDefault();
      requestAnimationFrame(() => el.line.setSelectionRange(el.line.value.length, el.line.value.length));
    } else if (e.key === "ArrowDown" && !e.altKey && !e.ctrlKey && !e.metaKey) {
      if (state.histPos >= state.history.length) return;
      state.histPos += 1;
      el.line.value = state.histPos === state.history.length ? state.draft : state.history[state.histPos];
      e.preventDefault();
    } else if (e.key === "PageUp" || e.key === "PageDown") {
      el.log.scrollBy(0, (e.key === "PageUp" ? -1 : 1) * el.log.clientHeight * 0.9);
      e.preventDefault();
    } else if (e.key === "Escape") {
      el.line.value = "";
      state.histPos = state.history.length;
    }
  });

  // Typing while the output has focus goes to the command line.
  el.log.addEventListener("keydown", (e) => {
    if (!el.cmd.hidden && e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      el.line.focus();
    }
  });

  // ---- colour toggle ---------------------------------------------------------------

  function readColour() {
    try { return localStorage.getItem("aegent.colour") !== "off"; } catch { return true; }
  }

  function applyColour(on) {
    document.documentElement.classList.toggle("no-colour", !on);
    el.colour.setAttribute("aria-pressed", on ? "true" : "false");
    el.colour.textContent = on ? "Colour: on" : "Colour: off";
  }

  el.colour.addEventListener("click", () => {
    const on = el.colour.getAttribute("aria-pressed") !== "true";
    try { localStorage.setItem("aegent.colour", on ? "on" : "off"); } catch { /* private mode */ }
    applyColour(on);
  });

  // ---- vitals ---------------------------------------------------------------------

  function setBar(kind, now, max, text) {
    const bar = $(`bar-${kind}`);
    const n = Math.max(0, Number(now) || 0);
    const m = Math.max(0, Number(max) || 0);
    bar.setAttribute("aria-valuemax", String(Math.max(m, 1)));
    bar.setAttribute("aria-valuenow", String(Math.min(n, Math.max(m, 1))));
    bar.setAttribute("aria-valuetext", text || `${n} of ${m}`);
    const pct = m > 0 ? Math.min(100, (100 * n) / m) : 0;
    bar.firstElementChild.style.width = `${pct}%`;
    bar.dataset.low = kind !== "xp" && m > 0 && pct <= 25 ? "true" : "false";
    $(`${kind}-value`).textContent = `${n}/${m}`;
  }

  function updateVitals(v) {
    setBar("hp", v.hp, v.max_hp);
    setBar("mana", v.mana, v.max_mana, v.max_mana ? undefined : "none");
    setBar("moves", v.moves, v.max_moves);
    setBar("xp", v.xp, v.xp_next, `${v.xp} of ${v.xp_next} to level ${(v.level || 0) + 1}`);
    const parts = [`Level ${v.level}`];
    parts.push(v.fighting ? `fighting ${v.fighting}` : v.position);
    el.vitalsExtra.textContent = parts.filter(Boolean).join(" · ");
    el.vitalsExtra.dataset.fighting = v.fighting ? "true" : "false";
    const foe = v.fighting || null;
    if (foe !== state.fighting) { state.fighting = foe; state.foeCondition = null; }
    showFoe();
  }

  // ---- room panel --------------------------------------------------------------------

  function updateRoom(room) {
    el.roomName.textContent = room.name || room.id;
    state.exits = { id: room.id, exits: { ...(room.exits || {}) }, doors: {} };
    for (const [dir, door] of Object.entries(room.doors || {})) state.exits.doors[dir] = { ...door };
    renderExits();
    state.here = {
      characters: (room.characters || []).map((ch) => ({ ...ch })),
      items: (room.items || []).map((it) => ({ ...it })),
    };
    renderHere();
  }

  // A door opened, closed, locked or unlocked (by you, or by someone on either side):
  // the exit buttons and the map say so at once.
  function followDoor(d) {
    const door = state.exits.doors[d.direction];
    if (!door) return;
    if (d.action === "opened") door.closed = false;
    else if (d.action === "closed") door.closed = true;
    else if (d.action === "locked") { door.closed = true; door.locked = true; }
    else if (d.action === "unlocked") door.locked = false;
    else return;
    renderExits();
    const mapped = state.map.rooms.get(state.exits.id);
    if (mapped) { mapped.doors = { ...state.exits.doors }; drawMap(); }
  }

  function renderExits() {
    const { exits, doors } = state.exits;
    el.roomExits.replaceChildren();
    for (const dir of Object.keys(exits)) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "exit";
      b.dataset.dir = dir;
      const door = doors[dir];
      b.textContent = dir;
      if (door && door.closed) {
        b.textContent = `${dir} (${door.name || "door"} ${door.locked ? "locked" : "closed"})`;
      }
      b.setAttribute("aria-label", `Go ${b.textContent}`);
      b.addEventListener("click", () => { submitLine(dir); el.line.focus(); });
      li.appendChild(b);
      el.roomExits.appendChild(li);
    }
    if (!el.roomExits.childElementCount) {
      const li = document.createElement("li");
      li.textContent = "none";
      el.roomExits.appendChild(li);
    }
  }

  // The "Here" list: the room event's characters and items, kept current by the room's
  // events (docs/protocol.md, "Following the room"), matched by name.
  function renderHere() {
    el.roomHere.replaceChildren();
    for (const ch of state.here.characters) {
      const li = document.createElement("li");
      li.className = `who kind-${ch.kind}`;
      const name = document.createElement("span");
      name.className = "who-name";
      name.textContent = ch.kind === "agent" ? `[AI] ${ch.name}` : ch.name;
      li.appendChild(name);
      const bits = [ch.kind === "mob" ? "creature" : ch.kind === "agent" ? "AI agent" : "player"];
      if (ch.level !== undefined && ch.level !== null) bits.push(`level ${ch.level}`);
      if (ch.position && ch.position !== "standing") bits.push(ch.position);
      if (ch.linkdead) bits.push("link-dead");
      li.appendChild(document.createTextNode(` (${bits.join(", ")})`));
      el.roomHere.appendChild(li);
    }
    for (const item of state.here.items) {
      const li = document.createElement("li");
      li.className = "item";
      li.textContent = item.name;
      el.roomHere.appendChild(li);
    }
    if (!el.roomHere.childElementCount) {
      const li = document.createElement("li");
      li.textContent = "nobody and nothing";
      el.roomHere.appendChild(li);
    }
  }

  function findHere(list, name) {
    return list.findIndex((x) => x.name === name);
  }

  function dropHere(list, name) {
    const i = findHere(list, name);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  // Apply one event of the room to the "Here" list; true if the list changed.
  function followRoom(name, d) {
    const me = state.character ? state.character.name : null;
    const { characters, items } = state.here;
    if (d.actor === me && name !== "item_moved" && name !== "purged") return false;
    switch (name) {
      case "arrived":
        characters.push({ name: d.actor, kind: d.kind, level: d.level, position: "standing" });
        return true;
      case "entered_game": {
        const i = findHere(characters, d.actor);
        if (i >= 0) { characters[i].linkdead = false; return true; }
        characters.push({ name: d.actor, kind: d.kind, level: d.level, position: "standing" });
        return true;
      }
      case "departed":
      case "left_game":
        return dropHere(characters, d.actor);
      case "fled":
        return d.success ? dropHere(characters, d.actor) : false;
      case "died": {
        const gone = dropHere(characters, d.actor);
        if (d.corpse) items.push({ name: d.corpse, keyword: "corpse" });
        return gone || !!d.corpse;
      }
      case "link_lost":
      case "position_changed": {
        const i = findHere(characters, d.actor);
        if (i < 0) return false;
        if (name === "link_lost") characters[i].linkdead = true;
        else characters[i].position = d.position;
        return true;
      }
      case "item_moved":
        if (d.action === "got") return dropHere(items, d.item);
        if (d.action === "dropped") { items.push({ name: d.item, keyword: d.keyword }); return true; }
        return false;
      case "decayed":
        return dropHere(items, d.item);
      case "purged": {
        let changed = false;
        for (const thing of d.things || []) {
          changed = dropHere(characters, thing) || dropHere(items, thing) || changed;
        }
        return changed;
      }
      default:
        return false;
    }
  }

  // ---- mini-map ----------------------------------------------------------------------

  function resetMap() {
    state.map = { rooms: new Map(), current: null };
  }

  function occupied(x, y, z, except) {
    for (const r of state.map.rooms.values()) {
      if (r.x === x && r.y === y && r.z === z && r.id !== except) return true;
    }
    return false;
  }

  function offset(from, dir) {
    if (DIRS[dir]) return { x: from.x + DIRS[dir][0], y: from.y + DIRS[dir][1], z: from.z, dir };
    if (dir === "up") return { x: from.x, y: from.y, z: from.z + 1, dir };
    if (dir === "down") return { x: from.x, y: from.y, z: from.z - 1, dir };
    return null;
  }

  function freeCell(pos) {
    if (!occupied(pos.x, pos.y, pos.z)) return pos;
    const d = DIRS[pos.dir];
    if (d) {  // keep going the same way: the map stays readable for bent corridors
      for (let k = 1; k <= 3; k++) {
        const x = pos.x + d[0] * k, y = pos.y + d[1] * k;
        if (!occupied(x, y, pos.z)) return { x, y, z: pos.z };
      }
    }
    for (let r = 1; r <= 6; r++) {
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          if (Math.max(Math.abs(dx), Math.abs(dy)) !== r) continue;
          if (!occupied(pos.x + dx, pos.y + dy, pos.z)) return { x: pos.x + dx, y: pos.y + dy, z: pos.z };
        }
      }
    }
    return pos;
  }

  function place(room) {
    const rooms = state.map.rooms;
    const prev = state.map.current ? rooms.get(state.map.current) : null;
    // 1. The way we walked: an exit of the room we were in leads here.
    if (prev) {
      for (const [dir, to] of Object.entries(prev.exits)) {
        if (to === room.id) { const p = offset(prev, dir); if (p) return freeCell(p); }
      }
    }
    // 2. Any explored room with an exit leading here.
    for (const r of rooms.values()) {
      for (const [dir, to] of Object.entries(r.exits)) {
        if (to === room.id) { const p = offset(r, dir); if (p) return freeCell(p); }
      }
    }
    // 3. An exit from here into an explored room.
    for (const [dir, to] of Object.entries(room.exits || {})) {
      const r = rooms.get(to);
      if (r && OPPOSITE[dir]) { const p = offset(r, OPPOSITE[dir]); if (p) return freeCell(p); }
    }
    // 4. Somewhere new: the first room at the origin, others beside what we know.
    if (!rooms.size) return { x: 0, y: 0, z: 0 };
    let maxX = -Infinity;
    for (const r of rooms.values()) maxX = Math.max(maxX, r.x);
    return freeCell({ x: maxX + 3, y: 0, z: prev ? prev.z : 0 });
  }

  function mapVisit(data) {
    if (!data || !data.id) return;
    const rooms = state.map.rooms;
    let room = rooms.get(data.id);
    if (!room) {
      const pos = place(data);
      room = { id: data.id, x: pos.x, y: pos.y, z: pos.z };
      rooms.set(data.id, room);
    }
    room.name = data.name || data.id;
    room.exits = data.exits || {};
    room.doors = data.doors || {};
    state.map.current = data.id;
    drawMap();
  }

  function svg(tag, attrs, parent) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function drawMap() {
    const { rooms, current } = state.map;
    const here = rooms.get(current);
    const title = $("map-title");
    el.map.replaceChildren(title);
    if (!here) return;
    const level = [...rooms.values()].filter((r) => r.z === here.z);
    // Fit the explored level when it is small; else centre on where you are.
    const xs = level.map((r) => r.x * CELL), ys = level.map((r) => r.y * CELL);
    const minX = Math.min(...xs) - CELL, maxX = Math.max(...xs) + CELL;
    const minY = Math.min(...ys) - CELL, maxY = Math.max(...ys) + CELL;
    let w = Math.max(MAP_MIN_W, maxX - minX), h = Math.max(MAP_MIN_H, maxY - minY);
    let cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
    if (w > MAP_MAX_W || h > MAP_MAX_H) {
      w = MAP_MAX_W; h = MAP_MAX_H; cx = here.x * CELL; cy = here.y * CELL;
    }
    el.map.setAttribute("viewBox", `${cx - w / 2} ${cy - h / 2} ${w} ${h}`);
    const edges = svg("g", { class: "map-edges" }, el.map);
    const boxes = svg("g", { class: "map-rooms" }, el.map);
    for (const r of level) {
      const x = r.x * CELL, y = r.y * CELL;
      for (const [dir, to] of Object.entries(r.exits)) {
        const d = DIRS[dir];
        if (!d) continue;
        const t = rooms.get(to);
        const door = r.doors[dir];
        const cls = "map-exit" + (door && door.closed ? " door" : "");
        if (t && t.z === r.z) {
          if (r.id > to && t.exits && Object.values(t.exits).includes(r.id)) continue; // drawn once
          svg("line", { x1: x, y1: y, x2: t.x * CELL, y2: t.y * CELL, class: cls }, edges);
        } else {
          svg("line", { x1: x, y1: y, x2: x + d[0] * CELL * 0.45, y2: y + d[1] * CELL * 0.45,
                        class: cls + " stub" }, edges);
        }
      }
    }
    for (const r of level) {
      const x = r.x * CELL, y = r.y * CELL;
      const g = svg("g", { class: "map-room" + (r.id === current ? " here" : ""), "data-room": r.id }, boxes);
      svg("title", {}, g).textContent = r.name + (r.id === current ? " (you are here)" : "");
      svg("rect", { x: x - BOX / 2, y: y - BOX / 2, width: BOX, height: BOX, rx: 2 }, g);
      if (r.id === current) svg("circle", { cx: x, cy: y, r: 3.5, class: "you" }, g);
      if (r.exits.up) svg("path", { d: `M${x + 4} ${y - 9} l4 -6 l4 6 z`, class: "updown" }, g);
      if (r.exits.down) svg("path", { d: `M${x + 4} ${y + 9} l4 6 l4 -6 z`, class: "updown" }, g);
    }
    if (here.z !== 0) {
      const t = svg("text", { x: cx - w / 2 + 6, y: cy - h / 2 + 14, class: "map-level" }, el.map);
      t.textContent = here.z > 0 ? `${here.z} up` : `${-here.z} down`;
    }
    describeMap();
  }

  function describeMap() {
    const { rooms, current } = state.map;
    const here = rooms.get(current);
    const n = rooms.size;
    el.mapSummary.textContent =
      `${n} ${n === 1 ? "room" : "rooms"} explored. You are in ${here ? here.name : "an unknown place"}.`;
    el.mapList.replaceChildren();
    for (const r of rooms.values()) {
      const li = document.createElement("li");
      if (r.id === current) li.className = "here";
      const exits = Object.entries(r.exits).map(([dir, to]) => {
        const t = rooms.get(to);
        return `${dir} to ${t ? t.name : "somewhere unexplored"}`;
      });
      li.textContent = `${r.name}${r.id === current ? " (you are here)" : ""}: ` +
        (exits.length ? exits.join("; ") : "no exits");
      el.mapList.appendChild(li);
    }
  }

  // ---- start ----------------------------------------------------------------------

  applyColour(readColour());
  syncMode();
  setMode("start");
  state.home = state.url = new URL(wsUrl()).href;
  state.addresses = [state.home];
  connect();

  // For the tests and for curious people: a read-only peek at the client's state.
  window.aegentClient = {
    maxEntries: MAX_ENTRIES,
    get connected() { return !!state.ws && state.ws.readyState === WebSocket.OPEN; },
    get authed() { return state.authed; },
    get mapRooms() { return [...state.map.rooms.values()].map((r) => ({ ...r })); },
    get address() { return state.url; },                // the address dialled now
    get addresses() { return state.addresses.slice(); },   // where it reconnects, in turn
    get attempts() { return state.attempts.slice(); },     // the last addresses dialled
    gatewayList(raw) { return gatewayList(raw); },      // what it keeps of a hello's list
    ansiHtml(text) {   // what a line with ANSI escapes becomes in the log
      const div = document.createElement("div");
      div.appendChild(ansiFragment(text));
      return div.innerHTML;
    },
    print(text, cls) { print(text, cls); },   // a local line (tests, bookmarklets)
  };
})();
