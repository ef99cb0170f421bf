// dizhi web page: search as you type, the building on a map, click the map to look up.
// Plain JS and a canvas, no network beyond this server: it works offline.
'use strict';

// Every API call the page makes, in one place.
const api = {
  suggest: (q) => `/v1/suggest?q=${encodeURIComponent(q)}&limit=10`,
  normalize: (q) => `/v1/normalize?q=${encodeURIComponent(q)}`,
  parse: (q) => `/v1/parse?q=${encodeURIComponent(q)}`,
  reverse: (lon, lat) => `/v1/reverse?lon=${lon}&lat=${lat}`,
  buildingsInBox: (b) => `/v1/buildings?bbox=${b.map((v) => v.toFixed(6)).join(',')}&limit=2000`,
  roadsInBox: (b) => `/v1/roads?bbox=${b.map((v) => v.toFixed(6)).join(',')}`,
  batchJobs: '/v1/batch/jobs',
};

const LEVELS = { province: '省/市', city: '市', district: '区', devzone: '开发区', town: '街镇', community: '居村委',
  group: '组', road: '道路', subroad: '支路', lane: '弄', number: '号', poi: '小区/单位', subpoi: '子区',
  building: '幢', unit: '单元', floor: '层', room: '室' };
const MATCH = { building: '幢级', number: '门牌级', lane: '弄级', poi: '小区级', road: '道路级', community: '居村委级',
  town: '街镇级', district: '区级', outside: '不在青浦', none: '未找到' };
const WHY = { typo: '错别字', homophone: '同音字', old_name: '旧地名', variant: '写法不同' };

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

function apiKey() { return sessionStorage.getItem('dizhi-key') || ''; }
async function getJson(url, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
  const res = await fetch(url, Object.assign({}, options, { headers }));
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 && !apiKey()) {
    askKey();
    throw new Error('需要 API 密钥');
  }
  if (!res.ok) throw new Error(body.error ? body.error.message : `HTTP ${res.status}`);
  return body;
}
function askKey() {
  const k = window.prompt('请输入 API 密钥（仅保存在本页会话中）：', apiKey());
  if (k !== null) sessionStorage.setItem('dizhi-key', k.trim());
}

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
  list.innerHTML = items.map((s, i) => `<li role="option" id="sug-${i}" data-i="${i}">${esc(s.address)}</li>`).join('');
  list.hidden = items.length === 0;
  q.setAttribute('aria-expanded', String(items.length > 0));
}
function markSelected() {
  [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === selected)));
  q.setAttribute('aria-activedescendant', selected >= 0 ? `sug-${selected}` : '');
  if (selected >= 0) list.children[selected].scrollIntoView({ block: 'nearest' });
}
q.addEventListener('input', () => {
  clearTimeout(suggestTimer);
  const text = q.value.trim();
  if (!text) { showSuggestions([]); return; }
  suggestTimer = setTimeout(async () => {
    const seq = ++suggestSeq;
    try {
      const items = await getJson(api.suggest(text));
      if (seq === suggestSeq) showSuggestions(Array.isArray(items) ? items : items.suggestions || []);
    } catch (e) { /* suggestions are a convenience */ }
  }, 120);
});
q.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowDown' && suggestions.length) { selected = (selected + 1) % suggestions.length; markSelected(); e.preventDefault(); }
  else if (e.key === 'ArrowUp' && suggestions.length) { selected = (selected - 1 + suggestions.length) % suggestions.length; markSelected(); e.preventDefault(); }
  else if (e.key === 'Escape') { showSuggestions([]); }
  else if (e.key === 'Enter') {
    if (selected >= 0) q.value = suggestions[selected].address;
    showSuggestions([]);
    lookup(q.value);
    e.preventDefault();
  }
});
list.addEventListener('mousedown', (e) => {
  const li = e.target.closest('li');
  if (!li) return;
  q.value = suggestions[Number(li.dataset.i)].address;
  showSuggestions([]);
  lookup(q.value);
  e.preventDefault();
});
$('go').addEventListener('click', () => { showSuggestions([]); lookup(q.value); });

// ---------- result ----------
let current = null;

function highlighted(parse) {
  const chars = [...parse.input];
  const parts = [];
  let at = 0;
  for (const c of parse.components || []) {
    if (c.start > at) parts.push(esc(chars.slice(at, c.start).join('')));
    parts.push(`<mark class="l-${c.level}" title="${esc(LEVELS[c.level] || c.level)}：${esc(c.value)}">${esc(chars.slice(c.start, c.end).join(''))}</mark>`);
    at = c.end;
  }
  if (at < chars.length) parts.push(esc(chars.slice(at).join('')));
  return parts.join('');
}

async function lookup(text) {
  text = text.trim();
  if (!text) return;
  $('result').innerHTML = '<p class="hint">查询中…</p>';
  try {
    const [m, parse] = await Promise.all([getJson(api.normalize(text)), getJson(api.parse(text)).catch(() => null)]);
    current = m;
    renderResult(m, parse);
    if (m.lon != null && m.lat != null) { map.center = [m.lon, m.lat]; map.zoom = Math.max(map.zoom, 17); map.load(); }
  } catch (e) {
    $('result').innerHTML = `<p class="score low">查询失败：${esc(e.message)}</p>`;
  }
}

function renderResult(m, parse) {
  const sure = m.score >= 0.9 ? 'high' : m.score < 0.6 ? 'low' : '';
  const rows = [
    ['标准地址', m.address], ['匹配级别', MATCH[m.level] || m.level], ['街镇', m.town && `${m.town}（${m.town_code}）`],
    ['居村委', m.community && `${m.community}（${m.community_code}）`], ['附加信息', m.detail], ['建筑物', m.building_id],
    ['坐标', m.lon != null ? `${m.lon.toFixed(6)}, ${m.lat.toFixed(6)}` : null], ['地址编号', m.id],
  ].filter(([, v]) => v);
  const corrections = (m.corrections || []).map((c) => `<li>${esc(c.from)} → ${esc(c.to)}（${esc(WHY[c.why] || c.why)}）</li>`).join('');
  const candidates = (m.candidates || []).map((c) =>
    `<tr><td><a href="#" data-q="${esc(c.address)}">${esc(c.address)}</a>${c.tie ? ' <span class="level-badge">并列</span>' : ''}</td><td>${esc(MATCH[c.level] || c.level)}</td><td>${c.score.toFixed(2)}</td></tr>`).join('');
  $('result').innerHTML = `
    ${parse ? `<p class="input-spans" id="spans">${highlighted(parse)}</p>` : ''}
    <h2><span class="level-badge">${esc(MATCH[m.level] || m.level)}</span> <span id="answer">${esc(m.address || '未找到匹配的标准地址')}</span></h2>
    <p>可信度 <span class="score ${sure}" id="score">${m.score.toFixed(2)}</span>${m.score < 0.9 && m.level !== 'none' ? '（请核实）' : ''}</p>
    <dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
    ${corrections ? `<h3>纠正</h3><ul>${corrections}</ul>` : ''}
    ${candidates ? `<h3>其他候选</h3><table><tr><th>地址</th><th>级别</th><th>分数</th></tr>${candidates}</table>` : ''}`;
  $('result').querySelectorAll('a[data-q]').forEach((a) => a.addEventListener('click', (e) => { e.preventDefault(); q.value = a.dataset.q; lookup(a.dataset.q); }));
}

// ---------- map: web mercator on a canvas ----------
const canvas = $('map');
const ctx = canvas.getContext('2d');
const map = {
  center: [121.12, 31.15], zoom: 12, buildings: [], roads: [], boxed: [], box: null, reverseHit: null, seq: 0, timer: 0,
  world(z = this.zoom) { return 256 * Math.pow(2, z); },
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
  toScreen(p) {
    const [cx, cy] = this.project(this.center);
    const [x, y] = this.project(p);
    return [x - cx + canvas.width / 2, y - cy + canvas.height / 2];
  },
  toLonLat([sx, sy]) {
    const [cx, cy] = this.project(this.center);
    return this.unproject([sx + cx - canvas.width / 2, sy + cy - canvas.height / 2]);
  },
  bbox() {
    const [w, n] = this.toLonLat([0, 0]);
    const [e, s] = this.toLonLat([canvas.width, canvas.height]);
    return [w, s, e, n];
  },
  load() {
    this.draw();
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (this.zoom < 15) { this.buildings = []; this.roads = []; this.draw(); return; }
      const seq = ++this.seq;
      const b = this.bbox();
      const [fc, roads] = await Promise.all([
        getJson(api.buildingsInBox(b)).catch(() => ({ features: [] })),
        getJson(api.roadsInBox(b)).catch(() => ({ features: [] })),
      ]);
      if (seq !== this.seq) return;
      this.buildings = fc.features || [];
      this.roads = roads.features || [];
      this.draw();
    }, 150);
  },
  ring(coords) {
    ctx.beginPath();
    coords.forEach((p, i) => { const [x, y] = this.toScreen(p); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    ctx.closePath();
  },
  polygons(f) {
    const g = f.geometry || {};
    return g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  },
  draw() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth; const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#eef2ea';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = '#c9c2b0'; ctx.lineWidth = 6 * dpr; ctx.lineCap = 'round';
    for (const r of this.roads) {
      const c = (r.geometry || {}).coordinates || [];
      ctx.beginPath(); c.forEach((p, i) => { const [x, y] = this.toScreen(p); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); }); ctx.stroke();
    }
    const hit = current && current.building_id;
    const picked = this.reverseHit && this.reverseHit.building_id;
    const boxed = new Set(this.boxed.map((f) => (f.properties || {}).id));
    for (const f of this.buildings) {
      const id = (f.properties || {}).id;
      for (const poly of this.polygons(f)) {
        this.ring(poly[0]);
        ctx.fillStyle = id === hit ? '#e8590c' : id === picked ? '#1c7ed6' : boxed.has(id) ? '#74c0fc' : '#adb5bd';
        ctx.fill();
        ctx.strokeStyle = id === hit ? '#a23e08' : '#6c757d'; ctx.lineWidth = (id === hit ? 2 : 1) * dpr; ctx.stroke();
      }
    }
    if (current && current.lon != null) {
      const [x, y] = this.toScreen([current.lon, current.lat]);
      ctx.fillStyle = '#c92a2a'; ctx.beginPath(); ctx.arc(x, y, 5 * dpr, 0, 2 * Math.PI); ctx.fill();
    }
    if (this.box) {
      const [a, b] = [this.toScreen(this.box[0]), this.toScreen(this.box[1])];
      ctx.strokeStyle = '#1c7ed6'; ctx.lineWidth = 2 * dpr; ctx.setLineDash([6, 4]);
      ctx.strokeRect(a[0], a[1], b[0] - a[0], b[1] - a[1]); ctx.setLineDash([]);
    }
    if (this.zoom < 15) {
      ctx.fillStyle = '#5b6b7b'; ctx.font = `${13 * dpr}px sans-serif`;
      ctx.fillText('放大地图以显示建筑物', 12 * dpr, 24 * dpr);
    }
  },
  zoomBy(d, at) {
    const anchor = at ? this.toLonLat(at) : this.center;
    const before = at ? this.toScreen(anchor) : null;
    this.zoom = Math.min(20, Math.max(9, this.zoom + d));
    if (at) {
      const after = this.toScreen(anchor);
      const [cx, cy] = this.project(this.center);
      this.center = this.unproject([cx + after[0] - before[0], cy + after[1] - before[1]]);
    }
    this.load();
  },
  panBy(dx, dy) {
    const [cx, cy] = this.project(this.center);
    this.center = this.unproject([cx + dx, cy + dy]);
    this.load();
  },
};

function canvasPoint(e) {
  const r = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  return [(e.clientX - r.left) * dpr, (e.clientY - r.top) * dpr];
}
let drag = null;
canvas.addEventListener('mousedown', (e) => { drag = { start: canvasPoint(e), last: canvasPoint(e), box: e.shiftKey, moved: false }; });
window.addEventListener('mousemove', (e) => {
  if (!drag) return;
  const p = canvasPoint(e);
  if (Math.hypot(p[0] - drag.start[0], p[1] - drag.start[1]) > 4) drag.moved = true;
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
  else if (e.key === '+' || e.key === '=') map.zoomBy(1);
  else if (e.key === '-') map.zoomBy(-1);
  else if (e.key === 'Enter') reverseAt(map.center);
});
$('zoom-in').addEventListener('click', () => map.zoomBy(1));
$('zoom-out').addEventListener('click', () => map.zoomBy(-1));
window.addEventListener('resize', () => map.draw());

async function reverseAt([lon, lat]) {
  $('map-info').textContent = '查询该位置…';
  try {
    const r = await getJson(api.reverse(lon.toFixed(7), lat.toFixed(7)));
    map.reverseHit = r;
    const addresses = (r.addresses || []).map((a) => `<li>${esc(a.address)}</li>`).join('');
    $('map-info').innerHTML = r.building_id
      ? `<strong id="reverse-building">${esc(r.building_id)}</strong> ${r.distance_m ? `（距离 ${r.distance_m.toFixed(1)} 米）` : '（点位在建筑物内）'}<ul id="reverse-addresses">${addresses || '<li>该建筑物无地址</li>'}</ul>`
      : '附近 50 米内没有建筑物';
  } catch (e) {
    $('map-info').textContent = `查询失败：${e.message}`;
  }
  map.draw();
}

function boxSelect() {
  const [[a, b], [c, d]] = map.box;
  const [w, e] = [Math.min(a, c), Math.max(a, c)];
  const [s, n] = [Math.min(b, d), Math.max(b, d)];
  getJson(api.buildingsInBox([w, s, e, n])).then((fc) => {
    map.boxed = fc.features || [];
    $('export').disabled = map.boxed.length === 0;
    $('map-info').innerHTML = `框选到 <strong id="boxed-count">${map.boxed.length}</strong> 栋建筑物，可导出为 GeoJSON。`;
    map.draw();
  }).catch((err) => { $('map-info').textContent = `框选失败：${err.message}`; });
}
$('export').addEventListener('click', () => {
  const blob = new Blob([JSON.stringify({ type: 'FeatureCollection', features: map.boxed })], { type: 'application/geo+json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'buildings.geojson';
  a.click();
});

// ---------- tabs and key ----------
function showTab(name) {
  for (const t of ['search', 'batch']) {
    $(`panel-${t}`).hidden = t !== name;
    $(`tab-${t}`).classList.toggle('active', t === name);
  }
  if (name === 'search') map.draw();
}
$('tab-search').addEventListener('click', () => showTab('search'));
$('tab-batch').addEventListener('click', () => showTab('batch'));
$('key-button').addEventListener('click', askKey);

// ---------- batch ----------
$('batch-file').addEventListener('change', async () => {
  const file = $('batch-file').files[0];
  const select = $('batch-column');
  select.innerHTML = '';
  if (!file) return;
  if (/\.xlsx$/i.test(file.name)) {
    select.innerHTML = '<option value="">（由服务器识别表头）</option>';
  } else {
    const head = await file.slice(0, 64 * 1024).text();
    const line = head.split(/\r?\n/)[0].replace(/^\uFEFF/, '');
    const cols = line.split(/\t/).length > line.split(',').length ? line.split('\t') : line.split(',');
    select.innerHTML = cols.map((c) => `<option>${esc(c.trim())}</option>`).join('');
    const guess = cols.findIndex((c) => /地址|address/i.test(c));
    if (guess >= 0) select.selectedIndex = guess;
  }
  select.disabled = false;
  $('batch-start').disabled = false;
});
$('batch-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = $('batch-file').files[0];
  if (!file) return;
  const form = new FormData();
  form.append('file', file);
  if ($('batch-column').value) form.append('column', $('batch-column').value);
  $('batch-status').textContent = '上传中…';
  $('batch-download').hidden = true;
  try {
    const job = await getJson(api.batchJobs, { method: 'POST', body: form });
    pollJob(job);
  } catch (err) {
    $('batch-status').textContent = `提交失败：${err.message}`;
  }
});
async function pollJob(job) {
  const bar = $('batch-progress');
  bar.hidden = false;
  for (;;) {
    const j = await getJson(`${api.batchJobs}/${job.id}`);
    bar.max = Math.max(1, j.rows_total || j.rows_done || 1);
    bar.value = j.rows_done || 0;
    $('batch-status').textContent = `已处理 ${j.rows_done || 0} 行${j.rows_total ? ` / 共 ${j.rows_total} 行` : ''}（${j.status}）`;
    if (j.status === 'done') {
      const a = $('batch-download');
      a.href = `${api.batchJobs}/${job.id}/result`;
      a.hidden = false;
      return;
    }
    if (j.status === 'failed') { $('batch-status').textContent = `处理失败：${j.error || ''}`; return; }
    await new Promise((r) => setTimeout(r, 500));
  }
}

map.draw();
