// MERM Lab mentoring: browser side of the hub protocol (PROTOCOL.md). No build step.
(() => {
"use strict";

const ASKED = (new URLSearchParams(location.search).get("lang") || navigator.language || "en");
const LANG = ASKED.startsWith("fr") ? "fr" : ASKED.startsWith("de") ? "de" : "en";
const TEXT = {
  en: { trainee: "trainee", you: "you", control: "Control", request: "Request control",
    release: "Release", scan: "Scan", set: "Set", send: "Send", clear: "Clear annotations",
    connecting: "connecting…", live: "live", closed: "disconnected", latency: "round trip",
    pending: "waiting for the trainee's confirmation", asks: "asks", audit: "audit (CSV)",
    camera: "camera", add: "Add console", arrow: "arrow", circle: "circle", text: "text",
    notice: "Simulated — not for diagnosis", reconnecting: "reconnecting…",
    expired: "invitation expired",
    worklist: "Worklist", pacs: "PACS", series: "Series", seriesCount: "series", slice: "slice",
    window: "window", scanState: "scan", sent: "sent", failed: "failed", pending_pacs: "not sent yet",
    idle: "ready", running: "running", done: "done", stopped: "stopped", error: "error",
    none: "—", center: "center", width: "width", patient: "patient", yes: "yes", no: "no",
    mentor: "mentor", yourName: "your name", invite: "paste a console's invitation link",
    mr: "MR", pet: "PET", findings: "AI findings", noFindings: "no AI finding on this series",
    confidence: "confidence", finding: "finding", parameter: "parameter",
    step: "step", stepPatient: "admitting the patient", stepScreening: "safety screening",
    stepProtocol: "protocol and planning", stepScanning: "scanning", stepImages: "images acquired",
    stepSent: "images sent to the PACS", safety: "safety", screeningPending: "screening not validated",
    screeningOk: "screening validated", screeningConditional: "conditional (precautions)",
    screeningBlocked: "contraindication", exercise: "exercise", free: "free practice",
    exScreening: "screening", exSeries: "series with the protocol", stepsDone: "steps done",
    alerts: "alerts", noAlert: "no alert", alertBlocked: "scan blocked: safety screening",
    alertConfirm: "waiting for the trainee to confirm the PET start", alertCall: "the trainee is on camera and microphone",
    alertDeclined: "the trainee declined the call", alertControl: "asks for control",
    paramValue: "new value of the parameter", chatMessage: "message to the room", shape: "annotation shape",
    annotationText: "annotation text" },
  fr: { trainee: "stagiaire", you: "vous", control: "Contrôle", request: "Demander la main",
    release: "Rendre la main", scan: "Acquérir", set: "Appliquer", send: "Envoyer",
    clear: "Effacer les annotations", connecting: "connexion…", live: "en direct",
    closed: "déconnecté", latency: "aller-retour", pending: "en attente de la confirmation du stagiaire",
    asks: "demande", audit: "journal (CSV)", camera: "caméra", add: "Ajouter une console",
    arrow: "flèche", circle: "cercle", text: "texte", notice: "Simulé — pas pour le diagnostic",
    reconnecting: "reconnexion…", expired: "invitation expirée",
    worklist: "Liste de travail", pacs: "PACS", series: "Série", seriesCount: "séries", slice: "coupe",
    window: "fenêtre", scanState: "acquisition", sent: "envoyée", failed: "échec", pending_pacs: "pas encore envoyée",
    idle: "prête", running: "en cours", done: "terminée", stopped: "arrêtée", error: "erreur",
    none: "—", center: "centre", width: "largeur", patient: "patient", yes: "oui", no: "non",
    mentor: "mentor", yourName: "votre nom", invite: "collez le lien d'invitation d'une console",
    mr: "IRM", pet: "TEP", findings: "Détections de l'IA", noFindings: "aucune détection de l'IA sur cette série",
    confidence: "confiance", finding: "détection", parameter: "paramètre",
    step: "étape", stepPatient: "accueil du patient", stepScreening: "questionnaire de sécurité",
    stepProtocol: "protocole et planification", stepScanning: "acquisition en cours", stepImages: "images acquises",
    stepSent: "images envoyées au PACS", safety: "sécurité", screeningPending: "questionnaire non validé",
    screeningOk: "questionnaire validé", screeningConditional: "sous conditions (précautions)",
    screeningBlocked: "contre-indication", exercise: "exercice", free: "pratique libre",
    exScreening: "questionnaire", exSeries: "série avec le protocole", stepsDone: "étapes faites",
    alerts: "alertes", noAlert: "aucune alerte", alertBlocked: "acquisition bloquée : questionnaire de sécurité",
    alertConfirm: "en attente de la confirmation du lancement TEP par le stagiaire", alertCall: "le stagiaire est en caméra et micro",
    alertDeclined: "le stagiaire a refusé l'appel", alertControl: "demande la main",
    paramValue: "nouvelle valeur du paramètre", chatMessage: "message au groupe", shape: "forme de l'annotation",
    annotationText: "texte de l'annotation" },
  de: { trainee: "Auszubildende/r", you: "Sie", control: "Steuerung", request: "Steuerung anfragen",
    release: "Steuerung abgeben", scan: "Aufnehmen", set: "Setzen", send: "Senden",
    clear: "Anmerkungen löschen", connecting: "Verbindung…", live: "live", closed: "getrennt",
    latency: "Umlaufzeit", pending: "wartet auf die Bestätigung der/des Auszubildenden",
    asks: "fragt", audit: "Protokoll (CSV)", camera: "Kamera", add: "Konsole hinzufügen",
    arrow: "Pfeil", circle: "Kreis", text: "Text", notice: "Simuliert — nicht für die Diagnose",
    reconnecting: "Verbindung wird wiederhergestellt…", expired: "Einladung abgelaufen",
    worklist: "Arbeitsliste", pacs: "PACS", series: "Serie", seriesCount: "Serien", slice: "Schicht",
    window: "Fenster", scanState: "Aufnahme", sent: "gesendet", failed: "fehlgeschlagen", pending_pacs: "noch nicht gesendet",
    idle: "bereit", running: "läuft", done: "fertig", stopped: "gestoppt", error: "Fehler",
    none: "—", center: "Zentrum", width: "Breite", patient: "Patient", yes: "ja", no: "nein",
    mentor: "Mentor", yourName: "Ihr Name", invite: "Einladungslink einer Konsole einfügen",
    mr: "MRT", pet: "PET", findings: "KI-Befunde", noFindings: "kein KI-Befund in dieser Serie",
    confidence: "Konfidenz", finding: "Befund", parameter: "Parameter",
    step: "Schritt", stepPatient: "Patientenaufnahme", stepScreening: "Sicherheitsfragebogen",
    stepProtocol: "Protokoll und Planung", stepScanning: "Aufnahme läuft", stepImages: "Bilder aufgenommen",
    stepSent: "Bilder an das PACS gesendet", safety: "Sicherheit", screeningPending: "Fragebogen nicht bestätigt",
    screeningOk: "Fragebogen bestätigt", screeningConditional: "unter Auflagen (Vorsichtsmaßnahmen)",
    screeningBlocked: "Kontraindikation", exercise: "Übung", free: "freies Üben",
    exScreening: "Fragebogen", exSeries: "Serie mit dem Protokoll", stepsDone: "Schritte erledigt",
    alerts: "Warnungen", noAlert: "keine Warnung", alertBlocked: "Aufnahme gesperrt: Sicherheitsfragebogen",
    alertConfirm: "wartet auf die Bestätigung des PET-Starts durch die/den Auszubildende/n", alertCall: "die/der Auszubildende ist mit Kamera und Mikrofon da",
    alertDeclined: "die/der Auszubildende hat den Anruf abgelehnt", alertControl: "bittet um die Steuerung",
    paramValue: "neuer Wert des Parameters", chatMessage: "Nachricht an den Raum", shape: "Form der Markierung",
    annotationText: "Text der Markierung" },
}[LANG];

// The words for what the consoles publish: parameter names and units, named values, roles,
// finding labels, decisions, PACS reasons (static/words.json, the three languages in one
// table; tests/mentoring/test_mentor_words.py checks it against the real consoles).
const WORDS = { params: {}, values: {}, switch: {}, roles: {}, finding_labels: {}, decisions: {},
  measures: {}, procedures: {}, decimal: {}, warnings: [], pacs_reasons: { de: [], os_errors: {} },
  hub_messages: { exact: {}, patterns: [] } };
async function loadWords() {
  try {
    const r = await fetch(hubUrl("static/words.json"));
    if (r.ok) Object.assign(WORDS, await r.json());
  } catch (e) { /* the page still works, with the consoles' own keys */ }
  return WORDS;
}
function word(table, key, fallback = key) {
  const t = WORDS[table] && WORDS[table][key];
  return (t && t[LANG]) || fallback;
}
// A number as the console writes it: six significant digits at most, the language's decimal
// separator ("0,5" in French and German; words.json's "decimal", from the console's i18n).
function number(v) {
  const text = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return text.replace(".", WORDS.decimal[LANG] || ".");
}
// A physics warning of the snapshot (English) as the console says it: words.json's
// "warnings" (the console's own patterns), numbers with the page's decimal separator.
function warningText(en) {
  if (LANG === "en") return en;
  for (const [pattern, t] of WORDS.warnings || []) {
    const m = new RegExp(`^(?:${pattern})$`).exec(String(en).trim());
    if (m) return t[LANG].replace(/\{(\d)\}/g, (_, i) => String(m[Number(i) + 1]).replace(".", WORDS.decimal[LANG] || "."));
  }
  return en;
}
// A worklist procedure ("MR brain", the RIS's English) in the page's language when known.
function procedureText(text) { return word("procedures", text, text); }
function withUnit(n, unit) {
  return !unit ? n : unit === "°" ? `${n}°` : `${n} ${unit}`;
}
// A protocol parameter as the console's card says it: "TR" … "500 ms", "écho de spin (SE)".
function paramLabel(key) { return word("params", key); }
function paramText(key, v) {
  const p = WORDS.params[key] || {};
  if (v === null || v === undefined || v === "") return TEXT.none;
  if (typeof v === "boolean") return word("switch", v ? "on" : "off", v ? TEXT.yes : TEXT.no);
  const named = WORDS.values[key] && WORDS.values[key][String(v)];
  if (named) return named[LANG];
  if (typeof v === "number") return v === 0 && p.zero ? p.zero[LANG] : withUnit(number(v), p.unit);
  if (Array.isArray(v)) return withUnit(v.map((x) => (typeof x === "number" ? number(x) : String(x))).join(" × "), p.unit);
  return String(v);
}
function roleWord(role) { return word("roles", role); }
// The operating system's error inside "unreachable (…)", in the page's language.
function osErrors(text) {
  for (const [en, t] of Object.entries(WORDS.pacs_reasons.os_errors || {})) text = text.split(`(${en})`).join(`(${t[LANG]})`);
  return text;
}
// Why a series did not reach the PACS: the hospital gives English and French; German from
// the English reason through words.json's patterns (English when none matches).
function pacsReason(st) {
  const en = st.reason || "";
  if (LANG === "fr") return osErrors(st.reason_fr || en);
  if (LANG === "de") {
    if (st.reason_de) return st.reason_de;
    for (const [pattern, de] of WORDS.pacs_reasons.de || []) {
      const m = new RegExp(pattern).exec(en);
      if (m) return osErrors(de.replace(/\{(\d)\}/g, (_, i) => m[Number(i)]));
    }
  }
  return en;
}
// A refusal of the hub (English on the wire) in the page's language; a console's own
// message (already in the trainee's language) as it came.
function hubMessage(text) {
  const msgs = WORDS.hub_messages || {};
  const exact = msgs.exact && msgs.exact[text];
  if (exact) return exact[LANG];
  for (const [pattern, t] of msgs.patterns || []) {
    const m = new RegExp(pattern).exec(text || "");
    if (m) return t[LANG].replace(/\{(\d)\}/g, (_, i) => roleWord(m[Number(i)]));
  }
  return text;
}
// The detection AI's findings on the shown series (console snapshot "findings"), one line
// each: "F1 — text — confidence 87 % — slice 12 — accepted"; null when the console shows none.
function findingLines(f) {
  if (!f || typeof f !== "object" || !f.shown) return null;
  const decisions = f.decisions || {};
  const lines = [];
  for (const it of Array.isArray(f.items) ? f.items : []) {
    const text = (it.text && (it.text[LANG] || it.text.en)) || word("finding_labels", it.label, TEXT.finding);
    const parts = [it.id, text];
    if (typeof it.confidence === "number") parts.push(`${TEXT.confidence} ${Math.round(it.confidence * 100)} %`);
    if (typeof it.slice_index === "number") parts.push(`${TEXT.slice} ${it.slice_index + 1}`);
    const measures = Object.entries(it.measure || {}).filter(([k, v]) => WORDS.measures[k] && typeof v === "number")
      .map(([k, v]) => `${WORDS.measures[k][LANG]} ${withUnit(number(v), WORDS.measures[k].unit)}`);
    if (measures.length) parts.push(measures.join(", "));
    const d = decisions[it.id];
    parts.push(word("decisions", d || "undecided", TEXT.none));
    lines.push({ id: it.id, decision: d || "undecided", text: parts.join(" — ") });
  }
  for (const a of Array.isArray(f.added) ? f.added : []) {
    const parts = [a.finding_id, a.label ? word("finding_labels", a.label, TEXT.finding) : TEXT.finding];
    if (typeof a.slice_index === "number") parts.push(`${TEXT.slice} ${a.slice_index + 1}`);
    parts.push(word("decisions", "add"));
    lines.push({ id: a.finding_id, decision: "add", text: parts.join(" — ") });
  }
  return lines;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// Every URL relative to the page's folder: the hub may sit under a prefix
// (/services/merm-hub/ behind JupyterHub), never at the site root.
function hubUrl(path, websocket = false) {
  const url = new URL(path, location.href);
  if (websocket) url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

function tokensFromHash() {
  return new URLSearchParams(location.hash.slice(1)).getAll("t");
}

function waitIce(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => { if (pc.iceGatheringState === "complete") { pc.removeEventListener("icegatheringstatechange", check); resolve(); } };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(resolve, 3000);  // never wait forever for a silent interface
  });
}

// One connection to a room: WebSocket signalling, console peer connection, people A/V.
class RoomClient {
  constructor(token, name, handlers, localMedia) {
    this.token = token; this.name = name; this.h = handlers; this.localMedia = localMedia;
    this.welcome = null; this.pc = null; this.dc = null; this.av = new Map(); this.seq = 0;
    this.pings = new Map(); this.backoff = 500; this.closing = false; this.pinger = null;
    this.reconnects = 0;
  }
  // Seconds since 1970 until which the invitation is valid (its claims, base64url JSON).
  expiry() {
    try {
      const b64 = this.token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(b64 + "===".slice((b64.length + 3) % 4))).exp;
    } catch (e) { return 0; }
  }
  connect() {
    this.ws = new WebSocket(hubUrl(`ws?token=${encodeURIComponent(this.token)}`, true));
    this.ws.onmessage = (ev) => this.onMessage(JSON.parse(ev.data));
    this.ws.onclose = () => this.retry();
  }
  // The hub went away (restart, network): try again with backoff, 0.5 s doubling to 5 s,
  // until the invitation expires; the welcome that follows restores the tile.
  retry() {
    if (this.closing) return;
    this.dropMedia();
    if (Date.now() / 1000 >= this.expiry()) { if (this.h.status) this.h.status(TEXT.expired); return; }
    if (this.h.status) this.h.status(TEXT.reconnecting);
    setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, 5000);
  }
  dropMedia() {
    if (this.pinger) { clearInterval(this.pinger); this.pinger = null; }
    if (this.pc) { this.pc.close(); this.pc = null; this.dc = null; }
    for (const id of [...this.av.keys()]) this.avClose(id);
  }
  close() { this.closing = true; this.dropMedia(); if (this.ws) this.ws.close(); }
  send(msg) { if (this.ws.readyState === 1) this.ws.send(JSON.stringify(msg)); }
  sendConsole(msg) {
    if (this.dc && this.dc.readyState === "open") this.dc.send(JSON.stringify(msg)); else this.send(msg);
  }
  iceServers() { return (this.welcome && this.welcome.ice_servers) || []; }
  async startConsole(videoEl) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers() });
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (ev) => { videoEl.srcObject = new MediaStream([ev.track]); videoEl.play().catch(() => {}); };
    this.dc = pc.createDataChannel("console");
    this.dc.onmessage = (ev) => this.onMessage(JSON.parse(ev.data));
    this.dc.onopen = () => { this.backoff = 500; if (this.h.status) this.h.status(TEXT.live); };
    await pc.setLocalDescription(await pc.createOffer());
    await waitIce(pc);
    this.send({ type: "offer", sdp: pc.localDescription.sdp });
    this.pinger = setInterval(() => this.ping(), 1000);
  }
  ping() {
    this.seq += 1;
    this.sendConsole({ type: "ping", id: this.seq, t: performance.now() });
  }
  async onMessage(msg) {
    switch (msg.type) {
      case "welcome":
        if (this.welcome) this.reconnects += 1;
        this.dropMedia();
        this.welcome = msg;
        this.send({ type: "hello", name: this.name, client: "browser" });
        if (this.localMedia) this.send({ type: "av_ready", on: true });
        break;
      case "answer":
        if (this.pc) await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
        break;
      case "pong":
        if (this.h.latency) this.h.latency(performance.now() - msg.t, msg.via);
        break;
      case "peers": this.syncAv(msg.peers); break;
      case "av_offer": await this.avAnswer(msg); break;
      case "av_answer": { const c = this.av.get(msg.from); if (c) await c.setRemoteDescription({ type: "answer", sdp: msg.sdp }); break; }
      case "av_hangup": this.avClose(msg.from); break;
    }
    const h = this.h[msg.type];
    if (h) h(msg);
  }
  // People's audio/video, browser to browser: the newer peer (higher id) calls the older.
  avPc(peer) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers() });
    for (const t of this.localMedia.getTracks()) pc.addTrack(t, this.localMedia);
    pc.ontrack = (ev) => this.h.remoteMedia && this.h.remoteMedia(peer, ev.streams[0] || new MediaStream([ev.track]));
    this.av.set(peer, pc);
    return pc;
  }
  async syncAv(peers) {
    if (!this.localMedia || !this.welcome) return;
    const me = parseInt(this.welcome.peer.slice(1), 10);
    for (const p of peers) {
      const n = parseInt(p.id.slice(1), 10);
      if (!p.av || p.id === this.welcome.peer || this.av.has(p.id) || n > me) continue;
      const pc = this.avPc(p.id);
      await pc.setLocalDescription(await pc.createOffer());
      await waitIce(pc);
      this.send({ type: "av_offer", to: p.id, sdp: pc.localDescription.sdp });
    }
    for (const id of [...this.av.keys()]) if (!peers.some((p) => p.id === id)) this.avClose(id);
  }
  async avAnswer(msg) {
    if (!this.localMedia) return;
    this.avClose(msg.from);
    const pc = this.avPc(msg.from);
    await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await waitIce(pc);
    this.send({ type: "av_answer", to: msg.from, sdp: pc.localDescription.sdp });
  }
  avClose(peer) {
    const pc = this.av.get(peer);
    if (pc) { pc.close(); this.av.delete(peer); if (this.h.remoteMedia) this.h.remoteMedia(peer, null); }
  }
  async stats() {
    const out = { console: 0, people: 0 };
    if (this.pc) (await this.pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") out.console += s.framesDecoded || 0;
    });
    for (const pc of this.av.values()) (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") out.people += s.framesDecoded || 0;
    });
    return out;
  }
}

async function getLocalMedia() {
  try {
    return await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  } catch (e) {
    return null;  // no camera, or refused: the session goes on without people's video
  }
}

function remoteMediaInto(container) {
  return (peer, stream) => {
    let v = container.querySelector(`[data-peer="${peer}"]`);
    if (!stream) { if (v) v.remove(); return; }
    if (!v) { v = el("video", { "data-peer": peer, autoplay: "", playsinline: "" }); container.append(v); }
    v.srcObject = stream; v.play().catch(() => {});
  };
}

window.MERM = { TEXT, LANG, WORDS, loadWords, number, procedureText, warningText, paramLabel, paramText, roleWord, pacsReason,
  findingLines, hubMessage,
  el, hubUrl, tokensFromHash, RoomClient, getLocalMedia, remoteMediaInto };
})();
