// dizhi web page: search as you type, the building on a map, click the map to look up, batch files.
// Plain JS and a canvas, no network beyond this server: it works offline.
'use strict';

// Every API call the page makes, in one place.
const api = {
  suggest: (q) => `/v1/suggest?q=${encodeURIComponent(q)}&limit=10`,
  normalize: (q) => `/v1/normalize?q=${encodeURIComponent(q)}`,
  parse: (q) => `/v1/parse?q=${encodeURIComponent(q)}`,
  reverse: (lon, lat) => `/v1/reverse?lon=${lon}&lat=${lat}`,
  map: (b) => `/v1/map?bbox=${b.map((v) => v.toFixed(6)).join(',')}`,
  buildingsInBox: (b) => `/v1/buildings?bbox=${b.map((v) => v.toFixed(6)).join(',')}&limit=5000`,
  batchInspect: '/v1/batch/inspect',
  batch: '/v1/batch',
  batchJob: (id) => `/v1/batch/${encodeURIComponent(id)}`,
  objections: '/v1/objections',
  coverage: '/v1/coverage',
};

// The largest map box the server draws (GET /v1/map), in degrees a side.
const MAX_MAP_SPAN = 0.05;

const LEVELS = { province: '省/市', city: '市', district: '区', devzone: '开发区', town: '街镇', community: '居村委',
  group: '组', road: '道路', subroad: '支路', lane: '弄', number: '号', poi: '小区/单位', subpoi: '子区',
  building: '幢', unit: '单元', floor: '层', room: '室' };
const MATCH = { building: '幢级', number: '门牌级', lane: '弄级', poi: '小区级', road: '仅道路', community: '仅居村委',
  town: '仅街镇', district: '仅区', outside: '不在本区', none: '未找到' };
// What the data covers (GET /v1/coverage): its name for the page and the notes.
const covered = { name: '本区' };
const WHY = { typo: '错别字', homophone: '同音字', old_name: '旧地名', variant: '写法不同' };
const KIND = { residential: '住宅', village_house: '农村住房', shop: '商铺', factory: '厂房', office: '办公', school: '学校',
  public: '公共建筑' };

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

// ---------- requests and the API key ----------
const KEY = 'dizhi-key';
function apiKey() { return sessionStorage.getItem(KEY) || ''; }

class ApiFailure extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

// fetch with the key (if one was given); on 401/403 asks for a key once and retries.
// `ask: false` for background requests (suggestions, the map) that must never pop up a dialog.
async function request(url, { ask = true, ...options } = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = Object.assign({}, options.headers || {});
    if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
    const res = await fetch(url, Object.assign({}, options, { headers }));
    if ((res.status === 401 || res.status === 403) && ask && attempt === 0) {
      const why = res.status === 403 ? '当前密钥的角色不能执行此操作，请输入有权限的密钥（如 gis）。' : '此操作需要 API 密钥。';
      if (await askKey(why)) continue;
    }
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      const e = body.error || {};
      throw new ApiFailure(res.status, e.code || '', e.message || `HTTP ${res.status}`);
    }
    return res;
  }
}
async function getJson(url, options) { return (await request(url, options)).json(); }

// The key dialog: resolves true when a key was entered.
function askKey(why) {
  const dialog = $('key-dialog');
  $('key-why').textContent = `${why || ''}密钥只保存在本页会话中，关闭页面后失效。`;
  $('key-input').value = apiKey();
  return new Promise((resolve) => {
    const done = (ok) => {
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      if (ok) sessionStorage.setItem(KEY, $('key-input').value.trim());
      resolve(ok && !!apiKey());
    };
    const onClose = () => done(dialog.returnValue === 'ok');
    dialog.returnValue = '';
    dialog.addEventListener('close', onClose);
    $('key-cancel').onclick = () => { dialog.returnValue = ''; dialog.close(); };
    dialog.showModal();
    $('key-input').focus();
  });
}
$('key-button').addEventListener('click', () => askKey(''));

// ---------- search box with suggestions ----------
const q = $('q');
const list = $('suggestions');
let suggestions = [];
let selected = -1;
let suggestTimer = 0;
let suggestSeq = 0;

function showSuggestions(items) {
  suggestions = items;
  selected = -1;
  list.innerHTML = items.map((s, i) => `<li role="option" id="sug-${i}" data-i="${i}" aria-selected="false">${esc(s.address)}</li>`).join('');
  list.hidden = items.length === 0;
  q.setAttribute('aria-expanded', String(items.length > 0));
  q.removeAttribute('aria-activedescendant');
}
function closeSuggestions() { suggestSeq++; clearTimeout(suggestTimer); showSuggestions([]); }
function markSelected() {
  [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === selected)));
  if (selected >= 0) {
    q.setAttribute('aria-activedescendant', `sug-${selected}`);
    list.children[selected].scrollIntoView({ block: 'nearest' });
  } else q.removeAttribute('aria-activedescendant');
}
q.addEventListener('input', () => {
  clearTimeout(suggestTimer);
  const text = q.value.trim();
  if (!text) { closeSuggestions(); return; }
  const seq = ++suggestSeq;
  suggestTimer = setTimeout(async () => {
    try {
      const body = await getJson(api.suggest(text), { ask: false });
      if (seq === suggestSeq && document.activeElement === q) showSuggestions(body.suggestions || []);
    } catch (e) { /* suggestions are a convenience; Enter still looks the text up */ }
  }, 120);
});
q.addEventListener('keydown', (e) => {
  const n = suggestions.length;
  if (e.key === 'ArrowDown' && n) { selected = (selected + 1) % n; markSelected(); e.preventDefault(); }
  else if (e.key === 'ArrowUp' && n) { selected = (selected - 1 + n) % n; markSelected(); e.preventDefault(); }
  else if (e.key === 'Escape') { if (n) e.preventDefault(); closeSuggestions(); }
  else if (e.key === 'Enter') {
    e.preventDefault();
    if (selected >= 0) q.value = suggestions[selected].address;
    closeSuggestions();
    lookup(q.value);
  } else if (e.key === 'Tab') closeSuggestions();
});
q.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== q) closeSuggestions(); }, 150));
list.addEventListener('mousedown', (e) => {
  const li = e.target.closest('li');
  if (!li) return;
  e.preventDefault();
  q.value = suggestions[Number(li.dataset.i)].address;
  closeSuggestions();
  lookup(q.value);
});
$('search-form').addEventListener('submit', (e) => { e.preventDefault(); closeSuggestions(); lookup(q.value); });
// "/" anywhere but in a text field goes back to the search box.
document.addEventListener('keydown', (e) => {
  const t = e.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
  if (e.key === '/' && !typing && !$('panel-search').hidden) { e.preventDefault(); q.focus(); q.select(); }
});

// ---------- result ----------
let current = null; // the last normalization result

// The input with each parsed component marked by level (spans are character offsets).
function highlighted(parse) {
  const chars = [...parse.input];
  const parts = [];
  let at = 0;
  const comps = (parse.components || []).slice().sort((a, b) => a.start - b.start);
  for (const c of comps) {
    if (c.start < at) continue;
    if (c.start > at) parts.push(esc(chars.slice(at, c.start).join('')));
    const name = LEVELS[c.level] || c.level;
    parts.push(`<mark class="l-${esc(c.level)}" data-level="${esc(c.level)}" title="${esc(name)}：${esc(c.value)}">${esc(chars.slice(c.start, c.end).join(''))}<small>${esc(name)}</small></mark>`);
    at = c.end;
  }
  if (at < chars.length) parts.push(esc(chars.slice(at).join('')));
  return parts.join('');
}

// What the operator should know about how far the match went, in words.
function verdict(m) {
  const found = m.address ? `“${esc(m.address)}”` : '';
  switch (m.level) {
    case 'building': case 'number': case 'lane': case 'poi':
      return m.score >= 0.9 ? '' : `<p class="warn">可信度不高，请与来电人核实。</p>`;
    case 'road': return `<p class="warn">仅匹配到道路 ${found}，门牌号未找到：请与来电人核实门牌号或小区名。</p>`;
    case 'community': return `<p class="warn">仅匹配到居村委 ${found}：请补充道路和门牌号。</p>`;
    case 'town': return `<p class="warn">仅匹配到街镇 ${found}：请补充道路和门牌号。</p>`;
    case 'district': return '<p class="warn">仅识别到区：请补充街镇、道路和门牌号。</p>';
    case 'outside': return `<p class="warn">该地址不在${esc(covered.name)}${m.address ? `（${esc(m.address)}）` : ''}。</p>`;
    default: return '<p class="warn">未找到匹配的标准地址：请核实后重新输入。</p>';
  }
}

let lookupSeq = 0;
async function lookup(text) {
  text = text.trim();
  if (!text) return;
  const seq = ++lookupSeq;
  $('result').innerHTML = '<p class="hint">查询中…</p>';
  try {
    const [m, parse] = await Promise.all([getJson(api.normalize(text)), getJson(api.parse(text)).catch(() => null)]);
    if (seq !== lookupSeq) return;
    current = m;
    renderResult(m, parse);
    if (m.lon != null && m.lat != null) map.show([m.lon, m.lat], 18);
    else { map.note = '该结果没有坐标：地图未移动，不表示其位置'; map.status(''); map.draw(); }
  } catch (e) {
    if (seq === lookupSeq) $('result').innerHTML = `<p class="warn">查询失败：${esc(e.message)}</p>`;
  }
}

function renderResult(m, parse) {
  const sure = m.score >= 0.9 ? 'high' : m.score < 0.6 ? 'low' : 'mid';
  const level = MATCH[m.level] || m.level;
  const rows = [
    ['街镇', m.town && `${m.town}（${m.town_code || '—'}）`, 'town'],
    ['居村委', m.community && `${m.community}（${m.community_code || '—'}）`, 'community'],
    ['附加信息', m.detail, 'detail'],
    ['建筑物', m.building_id, 'building'],
    ['坐标', m.lon != null ? `${m.lon.toFixed(6)}, ${m.lat.toFixed(6)}（WGS84）` : null, 'point'],
    ['地址编号', m.id, 'id'],
  ].filter(([, v]) => v);
  const corrections = (m.corrections || []).map((c) =>
    `<li><del>${esc(c.from)}</del> → <ins>${esc(c.to)}</ins>（${esc(WHY[c.why] || c.why)}）</li>`).join('');
  const candidates = (m.candidates || []).map((c) =>
    `<li><button type="button" class="link" data-q="${esc(c.address)}">${esc(c.address)}</button>
      <span class="level-badge">${esc(MATCH[c.level] || c.level)}</span> ${c.score.toFixed(2)}${c.tie ? ' <span class="tie">并列</span>' : ''}</li>`).join('');
  const legend = parse && parse.components && parse.components.length
    ? '' : '<p class="hint">（未能识别出地址成分）</p>';
  $('result').innerHTML = `
    ${parse ? `<p class="input-spans" id="spans">${highlighted(parse)}</p>${legend}` : ''}
    <h2 class="answer level-${esc(m.level)}"><span class="level-badge" id="match-level">${esc(level)}</span>
      <span id="answer">${esc(m.level === 'none' ? '未找到' : m.address || '未找到')}</span></h2>
    <p>可信度 <span class="score ${sure}" id="score">${m.score.toFixed(2)}</span></p>
    ${verdict(m)}
    <dl id="facts">${rows.map(([k, v, id]) => `<dt>${k}</dt><dd id="fact-${id}">${esc(v)}</dd>`).join('')}</dl>
    ${corrections ? `<h3>已纠正</h3><ul id="corrections">${corrections}</ul>` : ''}
    ${candidates ? `<h3>其他候选</h3><ul id="candidates" class="candidates">${candidates}</ul>` : ''}
    ${m.id ? '<p><button type="button" id="report-wrong">报告地址有误</button></p><p id="objection-result" aria-live="polite"></p>' : ''}`;
  if (m.id) $('report-wrong').addEventListener('click', () => reportWrong(m));
  $('result').querySelectorAll('button[data-q]').forEach((b) => b.addEventListener('click', () => {
    q.value = b.dataset.q;
    lookup(b.dataset.q);
  }));
}

// "报告地址有误": the operator's note becomes an objection, i.e. an anomaly for the 街镇's steward
// (any key; the server masks phone and ID-card numbers in the note).
function reportWrong(m) {
  const dialog = $('objection-dialog');
  $('objection-address').textContent = `${m.address}（${m.id}）`;
  $('objection-note').value = '';
  $('objection-cancel').onclick = () => { dialog.returnValue = ''; dialog.close(); };
  dialog.onclose = async () => {
    const note = $('objection-note').value.trim();
    if (dialog.returnValue !== 'ok' || !note) { $('report-wrong').focus(); return; }
    const out = $('objection-result');
    out.textContent = '提交中…';
    try {
      const res = await request(api.objections, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ address_id: m.id, note }) });
      const a = await res.json();
      out.innerHTML = `已登记为异常 <strong id="objection-anomaly">#${esc(a.id)}</strong>（${res.status === 201 ? '新异常' : '已并入该地址的异议'}，状态：${esc(a.status === 'open' ? '待处理' : a.status)}），由${esc(a.assignee || '街镇')}核实。`;
    } catch (e) { out.textContent = `提交失败：${e.message}`; }
  };
  dialog.returnValue = '';
  dialog.showModal();
  $('objection-note').focus();
}

// ---------- map: web mercator on a canvas, vectors from GET /v1/map ----------
const canvas = $('map');
const ctx = canvas.getContext('2d');
const TILE = 256;
// Where the map starts before the data's own centre is known: 人民广场.
const START = [121.4737, 31.2304];
const map = {
  center: START, zoom: 16, // until the data says where it is (showCoverage)
  buildings: [], roads: [], boxed: [], box: null, reverseHit: null, seq: 0, timer: 0, tooWide: false, note: '',
  dpr() { return window.devicePixelRatio || 1; },
  world(z = this.zoom) { return TILE * Math.pow(2, z); },
  project([lon, lat]) {
    const s = this.world();
    const x = ((lon + 180) / 360) * s;
    const r = (lat * Math.PI) / 180;
    const y = ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * s;
    return [x, y];
  },
  unproject([x, y]) {
    const s = this.world();
    const lon = (x / s) * 360 - 180;
    const n = Math.PI - (2 * Math.PI * y) / s;
    return [lon, (180 / Math.PI) * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n)))];
  },
  // CSS pixels relative to the canvas.
  toScreen(p) {
    const [cx, cy] = this.project(this.center);
    const [x, y] = this.project(p);
    return [x - cx + canvas.clientWidth / 2, y - cy + canvas.clientHeight / 2];
  },
  toLonLat([sx, sy]) {
    const [cx, cy] = this.project(this.center);
    return this.unproject([sx + cx - canvas.clientWidth / 2, sy + cy - canvas.clientHeight / 2]);
  },
  bbox() {
    const [w, n] = this.toLonLat([0, 0]);
    const [e, s] = this.toLonLat([canvas.clientWidth, canvas.clientHeight]);
    return [w, s, e, n];
  },
  show(p, zoom) {
    this.note = '';
    this.center = p;
    this.zoom = Math.max(this.zoom, zoom);
    this.load();
  },
  load() {
    this.draw();
    clearTimeout(this.timer);
    const b = this.bbox();
    this.tooWide = b[2] - b[0] > MAX_MAP_SPAN || b[3] - b[1] > MAX_MAP_SPAN;
    if (this.tooWide) { this.buildings = []; this.roads = []; this.status(''); this.draw(); return; }
    this.timer = setTimeout(async () => {
      const seq = ++this.seq;
      this.status('加载地图…');
      try {
        const body = await getJson(api.map(b), { ask: false });
        if (seq !== this.seq) return;
        this.buildings = body.buildings.features;
        this.roads = body.roads.features;
        this.status(body.truncated ? '建筑物过多，仅显示一部分：请放大地图' : '');
      } catch (e) {
        if (seq === this.seq) this.status(`地图加载失败：${e.message}`);
      }
      this.draw();
    }, 80);
  },
  // A loading or error text, else the standing note about the result (until the view moves).
  status(text) { $('map-status').textContent = text || this.note; },
  path(coords) {
    coords.forEach((p, i) => { const [x, y] = this.toScreen(p); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
  },
  polygons(f) {
    const g = f.geometry || {};
    return g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  },
  lines(f) {
    const g = f.geometry || {};
    return g.type === 'LineString' ? [g.coordinates] : g.type === 'MultiLineString' ? g.coordinates : [];
  },
  draw() {
    const dpr = this.dpr();
    const w = canvas.clientWidth; const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#f2efe9';
    ctx.fillRect(0, 0, w, h);
    // Roads: a grey casing under a white line, then the names.
    const roadWidth = Math.max(3, Math.min(14, (this.zoom - 13) * 3));
    ctx.lineCap = 'round'; ctx.lineJoin = 'round';
    for (const [width, colour] of [[roadWidth + 2, '#c8c0b4'], [roadWidth, '#ffffff']]) {
      ctx.strokeStyle = colour; ctx.lineWidth = width;
      ctx.beginPath();
      for (const r of this.roads) for (const l of this.lines(r)) this.path(l);
      ctx.stroke();
    }
    // Buildings: the matched one orange, the one clicked blue, the boxed ones light blue.
    const hit = current && current.building_id;
    const picked = this.reverseHit && this.reverseHit.building_id;
    const boxed = new Set(this.boxed.map((f) => f.id));
    let hitDrawn = null;
    let pickedDrawn = null;
    const drawn = [];
    for (const f of this.buildings) {
      const id = f.id;
      const fill = id === hit ? '#f76707' : id === picked ? '#1c7ed6' : boxed.has(id) ? '#a5d8ff' : '#d9d0c9';
      const stroke = id === hit ? '#a23e08' : id === picked ? '#0b4f8a' : '#b2a597';
      for (const poly of this.polygons(f)) {
        ctx.beginPath();
        for (const ring of poly) { this.path(ring); ctx.closePath(); }
        ctx.fillStyle = fill; ctx.fill('evenodd');
        ctx.strokeStyle = stroke; ctx.lineWidth = id === hit || id === picked ? 2.5 : 1; ctx.stroke();
        drawn.push([f, poly[0]]);
      }
      if (id === hit) hitDrawn = id;
      if (id === picked) pickedDrawn = id;
    }
    // The test hooks say what was really drawn, not what was asked for.
    canvas.dataset.selectedBuilding = hitDrawn || '';
    canvas.dataset.reverseBuilding = pickedDrawn || '';
    canvas.dataset.buildings = String(this.buildings.length);
    this.labels(drawn, hit, picked);
    if (current && current.lon != null) {
      const [x, y] = this.toScreen([current.lon, current.lat]);
      ctx.fillStyle = '#c92a2a'; ctx.strokeStyle = '#fff'; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
    if (this.box) {
      const [a, b] = [this.toScreen(this.box[0]), this.toScreen(this.box[1])];
      ctx.strokeStyle = '#1c7ed6'; ctx.lineWidth = 2; ctx.setLineDash([6, 4]);
      ctx.strokeRect(a[0], a[1], b[0] - a[0], b[1] - a[1]); ctx.setLineDash([]);
    }
    this.scaleBar(h);
    if (this.tooWide) {
      ctx.fillStyle = '#3b4a5a'; ctx.font = '15px sans-serif';
      ctx.fillText('范围太大：放大地图以显示建筑物和道路', 12, 28);
    }
  },
  labels(drawn, hit, picked) {
    ctx.font = '12px sans-serif';
    ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    ctx.lineWidth = 3; ctx.strokeStyle = 'rgba(255,255,255,.9)';
    // Road names at street zoom, once per road, along its visible segment nearest the centre.
    if (this.zoom >= 16) {
      ctx.fillStyle = '#4a4a4a';
      const seen = new Set();
      const [W, H] = [canvas.clientWidth, canvas.clientHeight];
      for (const r of this.roads) {
        const name = (r.properties || {}).name;
        if (!name || seen.has(name)) continue;
        const textWidth = ctx.measureText(name).width;
        let best = null;
        for (const line of this.lines(r)) {
          for (let i = 1; i < line.length; i++) {
            // The part of the segment inside the view (less a margin), if any.
            const seg = clip(this.toScreen(line[i - 1]), this.toScreen(line[i]), [40, 20, W - 40, H - 20]);
            if (!seg) continue;
            const [a, b] = seg;
            const [mx, my] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
            if (Math.hypot(b[0] - a[0], b[1] - a[1]) < textWidth + 20) continue;
            const d = Math.hypot(mx - W / 2, my - H / 2);
            if (!best || d < best.d) best = { d, mx, my, angle: Math.atan2(b[1] - a[1], b[0] - a[0]) };
          }
        }
        if (!best) continue;
        seen.add(name);
        let angle = best.angle;
        if (angle > Math.PI / 2) angle -= Math.PI; else if (angle < -Math.PI / 2) angle += Math.PI;
        ctx.save();
        ctx.translate(best.mx, best.my); ctx.rotate(angle);
        ctx.strokeText(name, 0, 0); ctx.fillText(name, 0, 0);
        ctx.restore();
      }
    }
    // Building labels (the short form of the first address) when they fit.
    if (this.zoom >= 18) {
      for (const [f, ring] of drawn) {
        const p = f.properties || {};
        if (!p.address) continue;
        const label = shortLabel(p.address) + (p.address_count > 1 ? ` 等${p.address_count}个` : '');
        const pts = ring.map((c) => this.toScreen(c));
        const xs = pts.map((c) => c[0]); const ys = pts.map((c) => c[1]);
        const width = Math.max(...xs) - Math.min(...xs);
        if (ctx.measureText(label).width > width + 24 && f.id !== hit && f.id !== picked) continue;
        const x = (Math.max(...xs) + Math.min(...xs)) / 2; const y = (Math.max(...ys) + Math.min(...ys)) / 2;
        ctx.fillStyle = f.id === hit ? '#5c1f00' : '#333';
        ctx.strokeText(label, x, y); ctx.fillText(label, x, y);
      }
    }
    ctx.textAlign = 'start'; ctx.textBaseline = 'alphabetic';
  },
  scaleBar(h) {
    const metresPerPx = (156543.03392 * Math.cos((this.center[1] * Math.PI) / 180)) / Math.pow(2, this.zoom);
    const nice = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
    const m = nice.find((n) => n / metresPerPx >= 60) || 5000;
    const px = m / metresPerPx;
    const y = h - 14;
    ctx.strokeStyle = '#333'; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(12, y - 5); ctx.lineTo(12, y); ctx.lineTo(12 + px, y); ctx.lineTo(12 + px, y - 5); ctx.stroke();
    ctx.fillStyle = '#333'; ctx.font = '12px sans-serif';
    ctx.fillText(m >= 1000 ? `${m / 1000} 公里` : `${m} 米`, 18 + px, y);
  },
  zoomBy(d, at) {
    const anchor = at ? this.toLonLat(at) : null;
    const before = at ? this.toScreen(anchor) : null;
    this.note = '';
    this.zoom = Math.min(21, Math.max(10, this.zoom + d));
    if (at) {
      const after = this.toScreen(anchor);
      const [cx, cy] = this.project(this.center);
      this.center = this.unproject([cx + after[0] - before[0], cy + after[1] - before[1]]);
    }
    this.load();
  },
  panBy(dx, dy) {
    this.note = '';
    const [cx, cy] = this.project(this.center);
    this.center = this.unproject([cx + dx, cy + dy]);
    this.load();
  },
};

// The segment a–b clipped to the box [x0, y0, x1, y1] (Liang–Barsky), or null when it is outside.
function clip(a, b, [x0, y0, x1, y1]) {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  let [t0, t1] = [0, 1];
  for (const [p, q] of [[-dx, a[0] - x0], [dx, x1 - a[0]], [-dy, a[1] - y0], [dy, y1 - a[1]]]) {
    if (p === 0) { if (q < 0) return null; continue; }
    const t = q / p;
    if (p < 0) t0 = Math.max(t0, t); else t1 = Math.min(t1, t);
    if (t0 > t1) return null;
  }
  return [[a[0] + t0 * dx, a[1] + t0 * dy], [a[0] + t1 * dx, a[1] + t1 * dy]];
}

// The door-plate part of a standard address, for a label: 青浦区朱家角镇淀山湖大道468弄1号 → 468弄1号
// (and past the district and town otherwise).
function shortLabel(address) {
  const m = address.match(/(\d+弄)?(\d+号)?(\d+幢)?$/);
  if (m && m[0]) return m[0];
  return address.replace(/^.+?(镇|街道)/, '').slice(-10);
}

// For the end-to-end tests and anyone scripting the page: where a lon/lat is on screen (viewport
// CSS pixels), and the view.
window.dizhiMap = {
  toViewport(lon, lat) {
    const r = canvas.getBoundingClientRect();
    const [x, y] = map.toScreen([lon, lat]);
    return [r.left + x, r.top + y];
  },
  view() { return { center: map.center, zoom: map.zoom, bbox: map.bbox() }; },
};

// A view in the address bar (#lon,lat,zoom) can be shared and reloaded.
function viewFromHash() {
  const m = location.hash.match(/^#(-?[\d.]+),(-?[\d.]+),([\d.]+)$/);
  if (m) { map.center = [Number(m[1]), Number(m[2])]; map.zoom = Number(m[3]); }
}

function canvasPoint(e) {
  const r = canvas.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
}
let drag = null;
canvas.addEventListener('mousedown', (e) => {
  if (e.button !== 0) return;
  drag = { start: canvasPoint(e), last: canvasPoint(e), box: e.shiftKey, moved: false };
  e.preventDefault();
  canvas.focus({ preventScroll: true });
});
window.addEventListener('mousemove', (e) => {
  if (!drag) return;
  const p = canvasPoint(e);
  if (Math.hypot(p[0] - drag.start[0], p[1] - drag.start[1]) > 4) drag.moved = true;
  if (!drag.moved) return;
  if (drag.box) { map.box = [map.toLonLat(drag.start), map.toLonLat(p)]; map.draw(); }
  else { map.panBy(drag.last[0] - p[0], drag.last[1] - p[1]); }
  drag.last = p;
});
window.addEventListener('mouseup', (e) => {
  if (!drag) return;
  const d = drag; drag = null;
  if (d.box && d.moved) boxSelect();
  else if (!d.moved) reverseAt(map.toLonLat(canvasPoint(e)));
});
canvas.addEventListener('wheel', (e) => { e.preventDefault(); map.zoomBy(e.deltaY < 0 ? 0.5 : -0.5, canvasPoint(e)); }, { passive: false });
canvas.addEventListener('keydown', (e) => {
  const step = 80;
  const keys = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  if (keys[e.key]) { map.panBy(...keys[e.key]); e.preventDefault(); }
  else if (e.key === '+' || e.key === '=') { map.zoomBy(1); e.preventDefault(); }
  else if (e.key === '-' || e.key === '_') { map.zoomBy(-1); e.preventDefault(); }
  else if (e.key === 'Enter') { reverseAt(map.center); e.preventDefault(); }
});
$('zoom-in').addEventListener('click', () => map.zoomBy(1));
$('zoom-out').addEventListener('click', () => map.zoomBy(-1));
window.addEventListener('resize', () => map.load());

let reverseSeq = 0;
async function reverseAt([lon, lat]) {
  const seq = ++reverseSeq;
  const info = $('map-info');
  info.textContent = '查询该位置…';
  try {
    const r = await getJson(api.reverse(lon.toFixed(7), lat.toFixed(7)));
    if (seq !== reverseSeq) return;
    map.reverseHit = r;
    const addresses = (r.addresses || []).map((a) =>
      `<li><button type="button" class="link" data-q="${esc(a.address)}">${esc(a.address)}</button></li>`).join('');
    const where = r.inside ? '点位在建筑物内' : `距离 ${Number(r.distance_m).toFixed(1)} 米`;
    info.innerHTML = r.building_id
      ? `<p><strong>地图点选</strong> 建筑物 <span id="reverse-building">${esc(r.building_id)}</span>
           · ${esc(KIND[r.kind] || r.kind || '')}${r.floors ? ` ${r.floors} 层` : ''} · ${where}</p>
         <ul id="reverse-addresses">${addresses || '<li>该建筑物没有登记地址</li>'}</ul>`
      : '<p><strong>地图点选</strong> <span id="reverse-none">附近 50 米内没有建筑物</span></p>';
    info.querySelectorAll('button[data-q]').forEach((b) => b.addEventListener('click', () => {
      q.value = b.dataset.q;
      lookup(b.dataset.q);
    }));
  } catch (e) {
    if (seq === reverseSeq) info.textContent = `查询失败：${e.message}`;
  }
  map.draw();
}

async function boxSelect() {
  const [[a, b], [c, d]] = map.box;
  const bbox = [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
  const info = $('map-info');
  info.textContent = '框选查询中…';
  try {
    const fc = await getJson(api.buildingsInBox(bbox));
    map.boxed = fc.features || [];
    $('export').disabled = map.boxed.length === 0;
    info.innerHTML = `<p>框选到 <strong id="boxed-count">${map.boxed.length}</strong> 栋建筑物${fc.truncated ? `（共 ${fc.matched} 栋，只取前 ${map.boxed.length} 栋）` : ''}，可用右上角按钮导出为 GeoJSON。</p>`;
  } catch (err) {
    info.textContent = err.status === 401 || err.status === 403
      ? '框选需要 gis 角色的 API 密钥（点右上角“API 密钥”输入）。'
      : `框选失败：${err.message}`;
  }
  map.draw();
}
$('export').addEventListener('click', () => {
  const blob = new Blob([JSON.stringify({ type: 'FeatureCollection', features: map.boxed })], { type: 'application/geo+json' });
  download(blob, 'buildings.geojson');
});
function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// ---------- tabs ----------
// The steward's queue and the dashboard are in steward.js (window.steward).
const TABS = ['search', 'batch', 'steward', 'dashboard'];
function showTab(name) {
  for (const t of TABS) {
    $(`panel-${t}`).hidden = t !== name;
    $(`tab-${t}`).classList.toggle('active', t === name);
    $(`tab-${t}`).setAttribute('aria-pressed', String(t === name));
  }
  if (name === 'search') { map.draw(); q.focus(); } else if (name === 'batch') $('batch-file').focus();
  else window.steward.show(name);
}
for (const t of TABS) $(`tab-${t}`).addEventListener('click', () => showTab(t));

// ---------- batch: inspect → pick the column → start → progress → download ----------
const batch = { file: null, job: null, timer: 0 };

async function inspect(sheet) {
  const file = batch.file;
  const form = new FormData();
  form.append('file', file);
  if (sheet) form.append('sheet', sheet);
  $('batch-info').textContent = '读取文件…';
  const info = await getJson(api.batchInspect, { method: 'POST', body: form });
  const columns = info.columns || [];
  const select = $('batch-column');
  select.innerHTML = columns.map((c) => `<option value="${esc(c)}">${esc(c)}</option>`).join('');
  if (info.suggested_column != null) select.value = info.suggested_column;
  select.disabled = columns.length === 0;
  const sheets = info.sheets || [];
  $('batch-sheet-row').hidden = sheets.length < 2;
  if (!sheet) $('batch-sheet').innerHTML = sheets.map((s) => `<option value="${esc(s)}">${esc(s)}</option>`).join('');
  $('batch-format').value = /\.xlsx$/i.test(file.name) ? 'xlsx' : 'csv';
  $('batch-start').disabled = columns.length === 0;
  $('batch-info').textContent = `${file.name}：${columns.length} 列${info.encoding ? `，编码 ${info.encoding}` : ''}。`
    + (info.suggested_column != null ? `已选择地址列“${info.suggested_column}”，如不对请更改。` : '请选择地址列。');
  const preview = info.preview || [];
  $('batch-preview').innerHTML = preview.length
    ? `<table id="batch-preview-table"><caption>前 ${preview.length} 行</caption><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
       <tbody>${preview.map((row) => `<tr>${row.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
    : '';
}
$('batch-file').addEventListener('change', async () => {
  batch.file = $('batch-file').files[0] || null;
  $('batch-column').innerHTML = '';
  $('batch-column').disabled = true;
  $('batch-start').disabled = true;
  $('batch-preview').innerHTML = '';
  if (!batch.file) { $('batch-info').textContent = ''; return; }
  try { await inspect(null); } catch (e) { $('batch-info').textContent = `无法读取该文件：${e.message}`; }
});
$('batch-sheet').addEventListener('change', async () => {
  try { await inspect($('batch-sheet').value); } catch (e) { $('batch-info').textContent = `无法读取该工作表：${e.message}`; }
});
$('batch-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!batch.file || !$('batch-column').value) return;
  const form = new FormData();
  form.append('file', batch.file);
  form.append('column', $('batch-column').value);
  if (!$('batch-sheet-row').hidden && $('batch-sheet').value) form.append('sheet', $('batch-sheet').value);
  form.append('format', $('batch-format').value);
  $('batch-job').hidden = false;
  $('batch-download').hidden = true;
  $('batch-status').textContent = '上传中…';
  $('batch-start').disabled = true;
  try {
    const job = await getJson(api.batch, { method: 'POST', body: form });
    clearTimeout(batch.timer);
    batch.job = job;
    showJob(job);
  } catch (err) {
    $('batch-status').textContent = `提交失败：${err.message}`;
    $('batch-start').disabled = false;
  }
});
const STATUS = { queued: '排队中', running: '处理中', done: '完成', failed: '失败' };
function showJob(j) {
  const bar = $('batch-progress');
  const dataset = $('batch-job').dataset;
  dataset.status = j.status;
  if (j.rows_total) { bar.max = j.rows_total; bar.value = j.rows_done || 0; } else bar.removeAttribute('value');
  if (j.status === 'done') { bar.max = 1; bar.value = 1; }
  const c = j.counts || {};
  const counts = `成功 ${c.ok || 0} · 部分匹配 ${c.partial || 0} · 未找到 ${c.not_found || 0} · 出错 ${c.error || 0}`;
  const rows = `${j.rows_done || 0}${j.rows_total != null ? ` / ${j.rows_total}` : ''} 行`;
  $('batch-status').textContent = j.status === 'failed'
    ? `处理失败：${(j.error && j.error.message) || '未知原因'}`
    : `${STATUS[j.status] || j.status}：已处理 ${rows}。${counts}`;
  if (j.status === 'done' && j.result) {
    const a = $('batch-download');
    a.href = j.result;
    a.download = `${(j.file_name || 'result').replace(/\.[^.]*$/, '')}-标准化.${j.format || 'csv'}`;
    a.textContent = `下载结果（${j.format === 'xlsx' ? 'XLSX' : 'CSV'}）`;
    a.hidden = false;
    a.focus();
  }
  if (j.status === 'done' || j.status === 'failed') { $('batch-start').disabled = false; return; }
  batch.timer = setTimeout(async () => {
    try { showJob(await getJson(api.batchJob(j.id))); } catch (e) { $('batch-status').textContent = `无法获取进度：${e.message}`; }
  }, 400);
}
// With a key the download must carry it: fetch, then save the blob. Without, the link works as is.
$('batch-download').addEventListener('click', async (e) => {
  if (!apiKey()) return;
  e.preventDefault();
  const a = e.currentTarget;
  try { download(await (await request(a.href)).blob(), a.download); } catch (err) { $('batch-status').textContent = `下载失败：${err.message}`; }
});

// The data's district in the title, header and notes; the map opens on it unless the address bar
// says where.
async function showCoverage() {
  try {
    const c = await getJson(api.coverage, { ask: false });
    covered.name = c.name;
    MATCH.outside = `不在${c.name}`;
    document.title = `dizhi 地址 · ${c.name}统一地址管理平台`;
    $('district-name').textContent = c.name;
    if (c.center && map.center === START) map.center = c.center;
  } catch (e) { /* the page works without: generic words, the start view */ }
}

viewFromHash();
showCoverage().finally(() => map.load());
