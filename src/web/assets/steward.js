// dizhi web page, the address steward's workspace: the anomaly queue of a 街镇 with filters and
// counts, each anomaly with its evidence side by side and on a map, the review actions (each a
// steward-key write, audited), and the dashboard with its report files. Loaded after app.js and
// uses its helpers ($, esc, request, getJson, download). Keyboard: j/k, n, c, r, s, m.
'use strict';

// One block: its names stay out of app.js's global scope; only window.steward is shared.
{

const RULES = { missing_level: '缺少层级', non_standard_spelling: '写法不规范', unknown_road: '未知道路',
  number_out_of_range: '门牌号超出范围', unknown_address: '未知地址', point_outside_building: '点位不在建筑物内',
  point_in_disagreeing_building: '点位落在其他建筑物', duplicate_address: '重复地址', building_without_address: '建筑物无地址',
  address_without_building: '地址无建筑物', sources_disagree_town: '多源街镇不一致', coordinates_outside_district: '坐标在区外',
  gcj02_shift_suspected: '疑似 GCJ-02 偏移', floors_disagree: '层数不一致', objection: '异议' };
const STATUSES = ['open', 'confirmed', 'rejected', 'resolved'];
const STATUS_NAME = { open: '待处理', confirmed: '已确认', rejected: '已驳回', resolved: '已解决' };
const STATUS_COLOUR = { open: '#e8590c', confirmed: '#c92a2a', rejected: '#868e96', resolved: '#2b8a3e' };
const SEVERITY_NAME = { error: '错误', warning: '警告', info: '提示' };
const ACTION_NAME = { 'anomaly.create': '发现', 'anomaly.transition': '状态变更', 'anomaly.comment': '评论',
  'anomaly.assign': '改派', 'anomaly.reopen': '重新打开', 'anomaly.stale': '融合后不再出现，自动关闭' };
const SOURCE_COLOURS = ['#1971c2', '#d9480f', '#2b8a3e', '#9c36b5', '#e67700', '#0c8599', '#5f3dc4'];
const TOWN_KEY = 'dizhi-steward-town';

const sapi = {
  me: '/v1/me',
  queue: (f, after) => `/v1/anomalies?${new URLSearchParams({ ...f, after: String(after), limit: '50' })}`,
  evidence: (id) => `/v1/anomalies/${id}/evidence`,
  status: (id) => `/v1/anomalies/${id}/status`,
  comment: (id) => `/v1/anomalies/${id}/comments`,
  assign: (id) => `/v1/anomalies/${id}/assignee`,
  tags: (address) => `/v1/addresses/${encodeURIComponent(address)}/tags`,
  dashboard: (town, weeks) => `/v1/anomalies/dashboard?${new URLSearchParams(town ? { town, weeks } : { weeks })}`,
  report: (format, town, weeks) => `/v1/anomalies/report?${new URLSearchParams(town ? { format, town, weeks } : { format, weeks })}`,
};

const sv = { started: false, me: null, groups: [], rows: [], next: null, index: -1, current: null, seq: 0, loading: false };
const ruleName = (r) => RULES[r] || r;
const opt = (value, label, selected) => `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(label)}</option>`;
const jsonBody = (method, body) => ({ method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

// ---------- filters and counts (from the dashboard's groups: one query for every filter) ----------
function filters() {
  const f = { assignee: $('f-town').value, rule: $('f-rule').value, status: $('f-status').value,
    source: $('f-source').value, severity: $('f-severity').value };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v));
}
function matching(except) {
  const f = filters();
  return sv.groups.filter((g) => (!f.assignee || g.town === f.assignee) && (except === 'rule' || !f.rule || g.rule === f.rule)
    && (except === 'source' || !f.source || g.source === f.source) && (!f.severity || g.severity === f.severity));
}
function sum(groups, key) {
  const out = new Map();
  for (const g of groups) { const k = key(g); if (k != null) out.set(k, (out.get(k) || 0) + g.count); }
  return out;
}
function fillFilters() {
  const towns = [...sum(sv.groups, (g) => g.town).keys()].sort();
  const town = $('f-town').value || sv.me?.town || localStorage.getItem(TOWN_KEY) || '';
  $('f-town').innerHTML = opt('', '全部街镇', !town) + towns.map((t) => opt(t, t, t === town)).join('');
  if (town && !towns.includes(town)) $('f-town').insertAdjacentHTML('beforeend', opt(town, town, true));
  refreshOptions();
}
function refreshOptions() {
  const keep = (id) => $(id).value;
  const [rule, source] = [keep('f-rule'), keep('f-source')];
  const rules = sum(matching('rule'), (g) => g.rule);
  $('f-rule').innerHTML = opt('', '全部规则') + [...rules].sort((a, b) => b[1] - a[1])
    .map(([r, n]) => opt(r, `${ruleName(r)}（${n}）`, r === rule)).join('');
  const sources = sum(matching('source'), (g) => g.source);
  $('f-source').innerHTML = opt('', '全部来源') + [...sources].sort().map(([s, n]) => opt(s, `${s}（${n}）`, s === source)).join('');
  const byStatus = sum(matching(), (g) => g.status);
  $('queue-counts').innerHTML = STATUSES.map((s) =>
    `<span class="count st-${s}" data-status="${s}">${STATUS_NAME[s]} ${byStatus.get(s) || 0}</span>`).join(' · ');
}
async function loadGroups() {
  const d = await getJson(sapi.dashboard('', 1));
  sv.groups = d.groups || [];
}

// ---------- the queue, keyset-paged ----------
async function loadQueue(more) {
  const seq = ++sv.seq;
  const after = more ? sv.next : 0;
  if (!more) { sv.rows = []; sv.index = -1; $('queue').innerHTML = '<li class="hint">加载中…</li>'; }
  sv.loading = true;
  try {
    const page = await getJson(sapi.queue(filters(), after || 0));
    if (seq !== sv.seq) return;
    sv.rows.push(...page.anomalies);
    sv.next = page.next_after;
    renderQueue();
  } catch (e) {
    if (seq === sv.seq) $('queue').innerHTML = `<li class="warn">加载失败：${esc(e.message)}</li>`;
  } finally { sv.loading = false; }
}
function renderQueue() {
  $('queue').innerHTML = sv.rows.length ? sv.rows.map((a, i) => `
    <li id="q-${a.id}" data-i="${i}" data-id="${a.id}" data-status="${esc(a.status)}" aria-selected="${i === sv.index}">
      <span class="sev sev-${esc(a.severity)}">${esc(SEVERITY_NAME[a.severity] || a.severity)}</span>
      <strong>${esc(ruleName(a.rule))}</strong> <span class="st st-${esc(a.status)}">${esc(STATUS_NAME[a.status])}</span>
      <br><small>#${a.id} · ${esc(a.source || a.entity_kind)} · ${esc(a.message)}</small></li>`).join('')
    : '<li class="hint">没有符合条件的异常。</li>';
  $('queue-more').hidden = sv.next == null;
}
$('queue').addEventListener('click', (e) => {
  const li = e.target.closest('li[data-i]');
  if (li) select(Number(li.dataset.i));
});
$('queue-more').addEventListener('click', () => loadQueue(true));
for (const id of ['f-town', 'f-rule', 'f-status', 'f-source', 'f-severity']) {
  $(id).addEventListener('change', () => {
    if (id === 'f-town') localStorage.setItem(TOWN_KEY, $('f-town').value);
    refreshOptions();
    loadQueue(false);
  });
}
$('queue-filters').addEventListener('submit', (e) => e.preventDefault());

async function select(i) {
  if (i < 0 || i >= sv.rows.length) return;
  sv.index = i;
  markQueue();
  const li = $(`q-${sv.rows[i].id}`);
  if (li) li.scrollIntoView({ block: 'nearest' });
  await openAnomaly(sv.rows[i].id);
}
async function step(d) {
  if (d > 0 && sv.index + 1 >= sv.rows.length && sv.next != null && !sv.loading) await loadQueue(true);
  await select(Math.min(sv.rows.length - 1, Math.max(0, sv.index + d)));
}

// ---------- one anomaly: evidence, actions, history ----------
let openSeq = 0;
async function openAnomaly(id) {
  const seq = ++openSeq;
  $('anomaly').innerHTML = '<p class="hint">加载证据…</p>';
  try {
    const a = await getJson(sapi.evidence(id));
    if (seq !== openSeq) return;
    sv.current = a;
    renderAnomaly(a);
    evidenceMap.show(a);
  } catch (e) { if (seq === openSeq) $('anomaly').innerHTML = `<p class="warn">加载失败：${esc(e.message)}</p>`; }
}
function sourceColour(source) {
  const names = [...new Set((sv.current?.evidence.records || []).map((r) => r.source))];
  return SOURCE_COLOURS[Math.max(0, names.indexOf(source)) % SOURCE_COLOURS.length];
}
function rawText(raw) {
  if (!raw || typeof raw !== 'object') return '（原始记录缺失）';
  return Object.entries(raw).filter(([, v]) => v !== '' && v != null).map(([k, v]) => `${k}=${v}`).join('；');
}
function renderAnomaly(a) {
  const e = a.evidence;
  const towns = [...sum(sv.groups, (g) => g.town).keys()].sort();
  const open = a.status === 'open';
  const closable = a.status === 'confirmed' || a.status === 'rejected';
  const addresses = e.addresses.map((x) => `
    <div class="std-address"><strong>${esc(x.address)}</strong> <small>${esc(x.id)} · ${esc(x.town)} · ${x.status === 'current' ? '现行' : esc(x.status)}
      ${x.building_id ? ` · 建筑物 ${esc(x.building_id)}` : ''}${x.point ? ` · ${x.point[0].toFixed(6)}, ${x.point[1].toFixed(6)}` : ''}</small>
      ${x.links.length ? `<table class="prov"><caption>来源依据（地址—建筑物关联）</caption><tr><th>来源</th><th>建筑物</th><th>方法</th><th>可信度</th></tr>
        ${x.links.map((l) => `<tr><td>${esc(l.source)}</td><td>${esc(l.building_id)}</td><td>${esc(l.method)}</td><td>${Number(l.confidence).toFixed(2)}</td></tr>`).join('')}</table>` : ''}
    </div>`).join('') || '<p class="hint">该异常没有对应的标准地址。</p>';
  const records = e.records.map((r) => `
    <tr class="${r.concerned ? 'concerned' : ''}"><td><span class="swatch" data-colour="${sourceColour(r.source)}"></span>${esc(r.source)}</td>
      <td>${esc(r.record_key)}${r.line != null ? `<br><small>第 ${r.line} 行</small>` : ''}</td>
      <td class="raw">${esc(rawText(r.raw))}</td>
      <td>${r.match_level ? `${esc(r.match_level)} ${Number(r.score).toFixed(2)}` : '未匹配'}${r.address_id ? `<br><small>${esc(r.address_id)}</small>` : ''}</td></tr>`).join('');
  const distances = e.distances.slice(0, 12).map((d) =>
    `<li>${esc(d.from)} ↔ ${esc(d.to)}：<strong>${d.metres.toFixed(1)} 米</strong></li>`).join('');
  const history = (a.history || []).map((h) => {
    const after = h.after || {};
    const what = [after.status && `→ ${STATUS_NAME[after.status] || after.status}`, h.action === 'anomaly.assign' && after.assignee && `改派给 ${after.assignee}`,
      after.comment && `“${after.comment}”`].filter(Boolean).join(' ');
    return `<li data-action="${esc(h.action)}"><small>${esc(h.at.replace('T', ' ').slice(0, 19))}</small> ${esc(h.actor)} ${esc(ACTION_NAME[h.action] || h.action)} ${esc(what)}</li>`;
  }).join('');
  const tagAddress = e.addresses[0];
  $('anomaly').innerHTML = `
    <h2><span class="sev sev-${esc(a.severity)}">${esc(SEVERITY_NAME[a.severity] || a.severity)}</span> #${a.id} ${esc(ruleName(a.rule))}${a.kind ? `（${esc(a.kind)}）` : ''}
      <span id="anomaly-status" class="st st-${esc(a.status)}" data-status="${esc(a.status)}">${esc(STATUS_NAME[a.status])}</span></h2>
    <p>${esc(a.message)}</p>
    <p class="hint">负责街镇：<span id="anomaly-assignee">${esc(a.assignee || '未分派')}</span> · 对象：${esc(a.entity_id)} · 发现于 ${esc(a.created_at.slice(0, 10))}</p>
    <div class="actions">
      <label for="note">处理意见（<kbd>n</kbd>）</label>
      <textarea id="note" rows="2" maxlength="2000" placeholder="确认、驳回、解决或评论时一并记录"></textarea>
      <div class="buttons">
        <button id="act-confirm" type="button" ${open ? '' : 'disabled'}>确认 <kbd>c</kbd></button>
        <button id="act-reject" type="button" ${open ? '' : 'disabled'}>驳回 <kbd>r</kbd></button>
        <button id="act-resolve" type="button" ${closable ? '' : 'disabled'}>解决 <kbd>s</kbd></button>
        <button id="act-comment" type="button">评论 <kbd>m</kbd></button>
        <select id="act-town" aria-label="改派给街镇">${towns.filter((t) => t !== a.assignee).map((t) => opt(t, t)).join('')}</select>
        <button id="act-assign" type="button">改派</button>
      </div>
      ${tagAddress ? `<div class="buttons"><label for="act-tags">标签</label>
        <input id="act-tags" type="text" value="${esc((tagAddress.tags || []).join('，'))}" placeholder="逗号分隔，如 学校，重点单位">
        <button id="act-tags-save" type="button">保存标签</button></div>` : ''}
      <p id="act-result" aria-live="polite"></p>
    </div>
    <h3>标准地址及来源依据</h3>${addresses}
    <h3>各来源记录（${e.records.length}${e.truncated ? '，仅列出前一部分' : ''}）</h3>
    ${records ? `<table id="records"><tr><th>来源</th><th>记录号</th><th>原始内容</th><th>匹配</th></tr>${records}</table>` : '<p class="hint">没有来源记录。</p>'}
    ${distances ? `<h3>点位间距离</h3><ul id="distances">${distances}</ul>` : ''}
    <h3>处理记录</h3><ol id="history">${history}</ol>`;
  // The swatches' colours: set from script (the CSP forbids inline styles).
  $('anomaly').querySelectorAll('.swatch[data-colour]').forEach((s) => { s.style.background = s.dataset.colour; });
  $('act-confirm').onclick = () => decide('confirmed');
  $('act-reject').onclick = () => decide('rejected');
  $('act-resolve').onclick = () => decide('resolved');
  $('act-comment').onclick = () => comment();
  $('act-assign').onclick = () => reassign($('act-town').value);
  if (tagAddress) $('act-tags-save').onclick = () => saveTags(tagAddress.id, $('act-tags').value);
  $('note').addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); $('queue').focus(); } });
}

// A write with the steward's key (asked for once on 401/403), then the anomaly reloaded.
async function write(url, options, done) {
  const a = sv.current;
  if (!a) return;
  $('act-result').textContent = '提交中…';
  try {
    await request(url, options);
    await openAnomaly(a.id);
    const row = sv.rows.find((r) => r.id === a.id);
    if (row && sv.current) { row.status = sv.current.status; row.assignee = sv.current.assignee; renderQueue(); markQueue(); }
    $('act-result').textContent = done;
    loadGroups().then(refreshOptions).catch(() => {});
  } catch (e) {
    $('act-result').textContent = e.status === 401 || e.status === 403 ? '需要 steward（数据管理员）角色的密钥。' : `提交失败：${e.message}`;
  }
}
function markQueue() {
  [...$('queue').children].forEach((li) => li.setAttribute('aria-selected', String(Number(li.dataset.i) === sv.index)));
}
function noteText() { return ($('note')?.value || '').trim(); }
function decide(status) {
  const a = sv.current;
  if (!a) return;
  const ok = status === 'resolved' ? ['confirmed', 'rejected'].includes(a.status) : a.status === 'open';
  if (!ok) { $('act-result').textContent = `当前状态为“${STATUS_NAME[a.status]}”，不能${STATUS_NAME[status].slice(1)}。`; return; }
  const note = noteText();
  write(sapi.status(a.id), jsonBody('POST', note ? { status, note } : { status }), `已${STATUS_NAME[status].slice(1)}。`);
}
function comment() {
  const text = noteText();
  if (!text) { $('act-result').textContent = '请先填写评论内容（按 n）。'; $('note').focus(); return; }
  write(sapi.comment(sv.current.id), jsonBody('POST', { text }), '已添加评论。');
}
function reassign(town) {
  if (!town) return;
  write(sapi.assign(sv.current.id), jsonBody('PUT', { assignee: town }), `已改派给 ${town}。`);
}
function saveTags(address, text) {
  const tags = text.split(/[,，、\s]+/).map((t) => t.trim()).filter(Boolean);
  write(sapi.tags(address), jsonBody('PUT', { tags }), '标签已保存。');
}

// Keys of the steward view (not while typing): j/k next/previous, c confirm, r reject, s resolve,
// n the note, m comment.
document.addEventListener('keydown', (e) => {
  if ($('panel-steward').hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
  if ($('key-dialog').open) return;
  const act = { j: () => step(1), k: () => step(-1), c: () => decide('confirmed'), r: () => decide('rejected'),
    s: () => decide('resolved'), m: () => comment(), n: () => $('note') && $('note').focus() }[e.key];
  if (act) { e.preventDefault(); act(); }
});

// ---------- the evidence map: footprints, every source's point, the distances ----------
const evidenceMap = {
  canvas: $('evidence-map'), a: null, context: { buildings: [], roads: [] }, seq: 0,
  view: null,
  project([lon, lat], z) {
    const s = 256 * Math.pow(2, z);
    const r = (lat * Math.PI) / 180;
    return [((lon + 180) / 360) * s, ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * s];
  },
  points(a) {
    const out = [];
    for (const x of a.evidence.addresses) if (x.point) out.push({ name: `address:${x.id}`, label: '标准地址', p: x.point, colour: '#c92a2a', std: true });
    for (const r of a.evidence.records) if (r.point) out.push({ name: `${r.source}/${r.record_key}`, label: r.source, p: r.point, colour: sourceColour(r.source) });
    return out;
  },
  show(a) {
    this.a = a;
    const pts = this.points(a).map((x) => x.p);
    for (const f of a.evidence.buildings.features) for (const ring of f.geometry.coordinates) pts.push(...ring);
    if (!pts.length) { this.view = null; this.context = { buildings: [], roads: [] }; this.draw(); return; }
    const lons = pts.map((p) => p[0]); const lats = pts.map((p) => p[1]);
    const box = [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
    const centre = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
    const w = this.canvas.clientWidth || 400; const h = this.canvas.clientHeight || 300;
    let z = 19;
    while (z > 10) {
      const [x0, y0] = this.project([box[0], box[3]], z); const [x1, y1] = this.project([box[2], box[1]], z);
      if (x1 - x0 < w * 0.7 && y1 - y0 < h * 0.7) break;
      z -= 0.5;
    }
    this.view = { centre, z };
    this.context = { buildings: [], roads: [] };
    this.draw();
    const half = [w / 2, h / 2];
    const c = this.project(centre, z);
    const corner = (dx, dy) => { // lon/lat of a screen offset from the centre
      const s = 256 * Math.pow(2, z); const x = c[0] + dx; const y = c[1] + dy;
      const n = Math.PI - (2 * Math.PI * y) / s;
      return [(x / s) * 360 - 180, (180 / Math.PI) * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n)))];
    };
    const [west, north] = corner(-half[0], -half[1]); const [east, south] = corner(half[0], half[1]);
    if (east - west > MAX_MAP_SPAN || north - south > MAX_MAP_SPAN) return;
    const seq = ++this.seq;
    getJson(api.map([west, south, east, north]), { ask: false }).then((m) => {
      if (seq !== this.seq) return;
      this.context = { buildings: m.buildings.features, roads: m.roads.features };
      this.draw();
    }).catch(() => {});
  },
  draw() {
    const cv = this.canvas; const g = cv.getContext('2d'); const dpr = window.devicePixelRatio || 1;
    const w = cv.clientWidth; const h = cv.clientHeight;
    cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = '#f2efe9'; g.fillRect(0, 0, w, h);
    cv.dataset.points = ''; cv.dataset.sources = ''; cv.dataset.anomaly = this.a ? String(this.a.id) : '';
    if (!this.view) {
      g.fillStyle = '#5b6b7b'; g.font = '14px sans-serif';
      g.fillText(this.a ? '该异常没有可在地图上显示的点位或建筑物' : '选择一条异常后在此显示证据', 12, 24);
      $('evidence-legend').innerHTML = '';
      return;
    }
    const c = this.project(this.view.centre, this.view.z);
    const scr = (p) => { const [x, y] = this.project(p, this.view.z); return [x - c[0] + w / 2, y - c[1] + h / 2]; };
    const path = (ring) => ring.forEach((p, i) => { const [x, y] = scr(p); if (i) g.lineTo(x, y); else g.moveTo(x, y); });
    g.lineCap = 'round'; g.lineJoin = 'round';
    for (const [width, colour] of [[9, '#c8c0b4'], [7, '#fff']]) {
      g.strokeStyle = colour; g.lineWidth = width; g.beginPath();
      for (const r of this.context.roads) {
        const geom = r.geometry || {};
        for (const l of geom.type === 'LineString' ? [geom.coordinates] : geom.type === 'MultiLineString' ? geom.coordinates : []) path(l);
      }
      g.stroke();
    }
    const polys = (f) => { const geom = f.geometry || {}; return geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : []; };
    const mine = new Set(this.a.evidence.buildings.features.map((f) => f.id));
    for (const [list, fill, stroke, lw] of [[this.context.buildings.filter((f) => !mine.has(f.id)), '#d9d0c9', '#b2a597', 1],
      [this.a.evidence.buildings.features, 'rgba(247,103,7,.55)', '#a23e08', 2.5]]) {
      for (const f of list) for (const poly of polys(f)) {
        g.beginPath(); for (const ring of poly) { path(ring); g.closePath(); }
        g.fillStyle = fill; g.fill('evenodd'); g.strokeStyle = stroke; g.lineWidth = lw; g.stroke();
      }
    }
    // Every source's point; a dashed line from each to the standard address's point, with the distance.
    const pts = this.points(this.a);
    const std = pts.find((x) => x.std);
    const dist = new Map(this.a.evidence.distances.map((d) => [`${d.from}|${d.to}`, d.metres]));
    g.font = '12px sans-serif'; g.textBaseline = 'middle';
    if (std) {
      for (const x of pts.filter((y) => !y.std)) {
        const [a, b] = [scr(std.p), scr(x.p)];
        g.setLineDash([5, 4]); g.strokeStyle = x.colour; g.lineWidth = 1.5;
        g.beginPath(); g.moveTo(a[0], a[1]); g.lineTo(b[0], b[1]); g.stroke(); g.setLineDash([]);
        const m = dist.get(`${std.name}|${x.name}`) ?? dist.get(`${x.name}|${std.name}`);
        if (m != null && m >= 1) {
          const label = `${m.toFixed(0)} 米`; const [mx, my] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
          g.lineWidth = 3; g.strokeStyle = '#fff'; g.strokeText(label, mx + 4, my); g.fillStyle = '#222'; g.fillText(label, mx + 4, my);
        }
      }
    }
    const drawn = [];
    for (const x of pts) {
      const [px, py] = scr(x.p);
      g.fillStyle = x.colour; g.strokeStyle = '#fff'; g.lineWidth = 2; g.beginPath();
      if (x.std) { g.moveTo(px, py - 8); g.lineTo(px + 8, py); g.lineTo(px, py + 8); g.lineTo(px - 8, py); g.closePath(); }
      else g.arc(px, py, 6, 0, 2 * Math.PI);
      g.fill(); g.stroke();
      // The standard address's label below its point, the sources' above theirs: they often coincide.
      const [lx, ly] = x.std ? [px + 10, py + 14] : [px + 10, py - 10];
      g.lineWidth = 3; g.strokeText(x.label, lx, ly); g.fillStyle = '#222'; g.fillText(x.label, lx, ly);
      if (px >= 0 && py >= 0 && px <= w && py <= h) drawn.push(x);
    }
    g.textBaseline = 'alphabetic';
    // The test hooks say what was really drawn inside the canvas.
    cv.dataset.points = drawn.map((x) => x.name).join(' ');
    cv.dataset.sources = [...new Set(drawn.filter((x) => !x.std).map((x) => x.label))].sort().join(' ');
    $('evidence-legend').innerHTML = [...new Map(pts.map((x) => [x.label, x.colour]))].map(([l, col]) =>
      `<span><i class="swatch" data-colour="${esc(col)}"></i>${esc(l)}</span>`).join('') + '<span><i class="swatch fp"></i>相关建筑物</span>';
    $('evidence-legend').querySelectorAll('.swatch[data-colour]').forEach((s) => { s.style.background = s.dataset.colour; });
  },
};
window.addEventListener('resize', () => { if (!$('panel-steward').hidden && evidenceMap.a) evidenceMap.show(evidenceMap.a); });

// ---------- the dashboard: by 街镇, by rule, the weekly trend; CSV/XLSX for the 街镇 report ----------
const dash = { data: null, seq: 0 };
async function loadDashboard() {
  const seq = ++dash.seq;
  $('d-total').textContent = '加载中…';
  try {
    const d = await getJson(sapi.dashboard($('d-town').value, $('d-weeks').value));
    if (seq !== dash.seq) return;
    dash.data = d;
    drawDashboard();
  } catch (e) { if (seq === dash.seq) $('d-total').textContent = `加载失败：${e.message}`; }
}
function byStatus(groups, key) {
  const m = new Map();
  for (const gr of groups) {
    const k = key(gr) || '（未分派）';
    if (!m.has(k)) m.set(k, { open: 0, confirmed: 0, rejected: 0, resolved: 0, total: 0 });
    const row = m.get(k); row[gr.status] += gr.count; row.total += gr.count;
  }
  return [...m].sort((a, b) => b[1].total - a[1].total);
}
function sized(cv) {
  const dpr = window.devicePixelRatio || 1; const w = cv.clientWidth; const h = cv.clientHeight;
  cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
  const g = cv.getContext('2d'); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, w, h);
  g.font = '12px sans-serif'; return [g, w, h];
}
function barChart(cv, rows, label) {
  const [g, w, h] = sized(cv);
  const shown = rows.slice(0, Math.max(1, Math.floor((h - 28) / 18)));
  const max = Math.max(1, ...shown.map(([, r]) => r.total));
  const left = 150; const barW = w - left - 60;
  shown.forEach(([name, r], i) => {
    const y = 6 + i * 18;
    g.fillStyle = '#1d2733'; g.textBaseline = 'middle'; g.textAlign = 'right';
    g.fillText(label(name).slice(0, 13), left - 6, y + 7);
    let x = left;
    for (const s of STATUSES) {
      const bw = (r[s] / max) * barW;
      g.fillStyle = STATUS_COLOUR[s]; g.fillRect(x, y, bw, 14); x += bw;
    }
    g.textAlign = 'left'; g.fillStyle = '#1d2733'; g.fillText(String(r.total), x + 4, y + 7);
  });
  legend(g, 8, h - 10);
  cv.dataset.bars = String(shown.length);
}
function legend(g, x, y) {
  g.textAlign = 'left'; g.textBaseline = 'middle';
  for (const s of STATUSES) {
    g.fillStyle = STATUS_COLOUR[s]; g.fillRect(x, y - 5, 10, 10);
    g.fillStyle = '#1d2733'; g.fillText(STATUS_NAME[s], x + 14, y); x += 70;
  }
}
function trendChart(cv, weeks) {
  const [g, w, h] = sized(cv);
  const series = [['raised', '新增', '#1971c2'], ['confirmed', '确认', STATUS_COLOUR.confirmed], ['rejected', '驳回', STATUS_COLOUR.rejected], ['resolved', '解决', STATUS_COLOUR.resolved]];
  const max = Math.max(1, ...weeks.flatMap((wk) => series.map(([k]) => wk[k])));
  const [l, r, t, b] = [50, 16, 10, 40];
  const x = (i) => l + (weeks.length < 2 ? 0 : (i / (weeks.length - 1)) * (w - l - r));
  const y = (v) => t + (1 - v / max) * (h - t - b);
  g.strokeStyle = '#c8d2dc'; g.lineWidth = 1; g.fillStyle = '#5b6b7b'; g.textAlign = 'right'; g.textBaseline = 'middle';
  for (const v of [0, max / 2, max]) { g.beginPath(); g.moveTo(l, y(v)); g.lineTo(w - r, y(v)); g.stroke(); g.fillText(String(Math.round(v)), l - 6, y(v)); }
  g.textAlign = 'center';
  weeks.forEach((wk, i) => g.fillText(wk.week.slice(5), x(i), h - b + 12));
  for (const [k, , colour] of series) {
    g.strokeStyle = colour; g.lineWidth = 2; g.beginPath();
    weeks.forEach((wk, i) => (i ? g.lineTo(x(i), y(wk[k])) : g.moveTo(x(i), y(wk[k]))));
    g.stroke();
    g.fillStyle = colour; weeks.forEach((wk, i) => { g.beginPath(); g.arc(x(i), y(wk[k]), 3, 0, 2 * Math.PI); g.fill(); });
  }
  let lx = l; g.textAlign = 'left';
  for (const [, name, colour] of series) { g.fillStyle = colour; g.fillRect(lx, h - 12, 10, 10); g.fillStyle = '#1d2733'; g.fillText(name, lx + 14, h - 7); lx += 64; }
  cv.dataset.weeks = String(weeks.length);
}
function drawDashboard() {
  const d = dash.data;
  if (!d || $('panel-dashboard').hidden) return;
  const towns = byStatus(d.groups, (gr) => gr.town);
  const rules = byStatus(d.groups, (gr) => gr.rule);
  $('d-total').textContent = `${d.town || '全区'}共 ${d.total} 条异常`;
  barChart($('chart-town'), towns, (t) => t);
  barChart($('chart-rule'), rules, ruleName);
  trendChart($('chart-trend'), d.trend);
  $('d-table').innerHTML = `<table id="d-town-table"><caption>各街镇异常数</caption><tr><th>街镇</th>${STATUSES.map((s) => `<th>${STATUS_NAME[s]}</th>`).join('')}<th>合计</th></tr>
    ${towns.map(([t, r]) => `<tr><td>${esc(t)}</td>${STATUSES.map((s) => `<td>${r[s]}</td>`).join('')}<td>${r.total}</td></tr>`).join('')}</table>`;
}
function fillDashboardTowns() {
  const towns = [...sum(sv.groups, (g) => g.town).keys()].sort();
  const keep = $('d-town').value;
  $('d-town').innerHTML = opt('', '全区') + towns.map((t) => opt(t, t, t === keep)).join('');
}
$('d-town').addEventListener('change', loadDashboard);
$('d-weeks').addEventListener('change', loadDashboard);
for (const format of ['csv', 'xlsx']) {
  $(`d-${format}`).addEventListener('click', async () => {
    try {
      const blob = await (await request(sapi.report(format, $('d-town').value, $('d-weeks').value))).blob();
      download(blob, `异常统计-${$('d-town').value || '全区'}.${format}`);
    } catch (e) { $('d-total').textContent = `导出失败：${e.message}`; }
  });
}
window.addEventListener('resize', () => { if (!$('panel-dashboard').hidden) drawDashboard(); });

// ---------- entry: the tabs call steward.show ----------
async function start() {
  if (sv.started) return true;
  try {
    sv.me = await getJson(sapi.me);
    await loadGroups();
  } catch (e) {
    const why = e.status === 401 || e.status === 403 ? '异常核查需要 gis 或 steward 角色的 API 密钥（点右上角“API 密钥”输入）' : '加载失败';
    $('queue').innerHTML = `<li class="warn">${why}：${esc(e.message)}</li>`;
    return false;
  }
  sv.started = true;
  fillFilters();
  fillDashboardTowns();
  return true;
}
window.steward = {
  async show(name) {
    if (name === 'steward') {
      evidenceMap.draw();
      if (!sv.started && await start()) {
        await loadQueue(false);
        if (!$('f-town').value) { $('queue-counts').insertAdjacentHTML('afterbegin', '<span id="choose-town">请选择您负责的街镇 · </span>'); $('f-town').focus(); return; }
      }
      $('queue').focus();
    } else if (name === 'dashboard') {
      if (await start()) { if (!dash.data) { const t = sv.me?.town; if (t) $('d-town').value = t; } loadDashboard(); }
    }
  },
};
}
