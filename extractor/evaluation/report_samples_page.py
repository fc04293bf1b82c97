"""The stylesheet and script of report.html's per-sample view (``report_samples`` builds its data).

The script reads the JSON payload of ``report_samples.payload``: rows in pages of 100, the
filters, the state in the URL hash, and an opened row. An opened row shows the gold and each
prediction as the task's display rows (``core.display``): one line per field path of a JSON answer,
per canto of a Cantos answer, its pieces marked missing, extra, different or near (equal only
within the task's tolerance), with the gold value beside a different one.
"""

CSS = """
.filters{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin:8px 0;padding:8px;background:#f6f7f9;border:1px solid #e1e4e8}
.filters select{max-width:190px}.count{font-weight:600;margin-left:auto}
table.samples{table-layout:fixed;width:100%;border-collapse:collapse}
table.samples td,table.samples th{border:1px solid #e3e3e3;padding:2px 4px;text-align:left;vertical-align:top}
table.samples th.v{width:30px;height:128px;vertical-align:bottom;padding:2px 0}
table.samples th.v span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:500;font-size:12px;display:inline-block;margin:0 auto}
table.samples .sid{width:150px;font-size:12px;color:#555;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
table.samples .sinput{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
tr.srow{cursor:pointer}tr.srow:hover td:not(.c){background:#f3f7ff}tr.srow.open td:not(.c){background:#dce8ff;font-weight:600}
td.c{text-align:center!important;font-size:12px;color:#fff;padding:2px 0!important}
.o{display:inline-block;min-width:18px;text-align:center;color:#fff;border-radius:3px;padding:0 3px;font-size:12px}
.o0,td.o0{background:#2e8b57}.o1,td.o1{background:#e9c46a;color:#222}.o2,td.o2{background:#d1495b}
.o3,td.o3{background:#8e5ea2}.o4,td.o4{background:#333}td.none{background:#fafafa}
tr.sdetail td{background:#fcfcfc;padding:8px 12px}
.detail table{width:100%;table-layout:auto;border-collapse:collapse;margin:6px 0}
.detail td,.detail th{border:1px solid #e3e3e3;padding:3px 6px;text-align:left;vertical-align:top}
.detail td:nth-child(1){width:170px;white-space:nowrap}.detail td:nth-child(2){width:175px;white-space:nowrap}.detail td:nth-child(3){width:150px}.detail td:nth-child(4){width:240px}
.detail pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:12px;background:#f6f6f6;padding:3px}
del.missing{background:#ffe0e0;color:#a00;text-decoration:line-through}ins.extra{background:#fff1c2;color:#7a5200;text-decoration:underline}
mark.invented{background:#ffc9c9}
ins.changed{background:#ffe3c2;color:#7a3e00;text-decoration:underline dotted}
.leaf{word-break:break-word}.leaf .path{font-family:ui-monospace,monospace;font-size:12px;color:#555;margin-right:6px}.leaf .was{color:#777;font-size:12px}
"""

JS = r"""
(function () {
  var el = document.getElementById('samples-data');
  if (!el) return;
  var D = JSON.parse(el.textContent), V = D.variants, PAGE = 100, limit = PAGE;
  var S = {data: '', tag: '', outcome: '', of: '', disagree: false, pa: '', pb: '', open: ''};
  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function fill(id, values, labels) {
    var s = $(id);
    values.forEach(function (v, i) { var o = document.createElement('option'); o.value = v; o.textContent = labels ? labels[i] : v; s.appendChild(o); });
  }
  fill('f-data', D.data); fill('f-tag', D.tags.slice().sort());
  fill('f-outcome', D.outcomes.map(function (o) { return o[0]; }), D.outcomes.map(function (o) { return o[1]; }));
  fill('f-of', V); fill('f-pa', V); fill('f-pb', V);
  var head = $('sample-table').tHead.rows[0];
  V.forEach(function (v) { var th = document.createElement('th'); th.className = 'v'; th.title = v; th.innerHTML = '<span>' + esc(v) + '</span>'; head.appendChild(th); });
  function key(r) { return D.data[r[0]] + '/' + r[1]; }
  function answer(c) { return c[0] !== 0 && c.length > 2 ? JSON.stringify(c[2]) : 'gold'; }
  function differ(a, b) { return !!(a && b) && (a[0] !== b[0] || a[1] !== b[1] || answer(a) !== answer(b)); }
  function disagree(cells) {
    var seen = cells.filter(function (c) { return c; });
    for (var i = 1; i < seen.length; i++) if (differ(seen[0], seen[i])) return true;
    return false;
  }
  function matches(r) {
    if (S.data && D.data[r[0]] !== S.data) return false;
    if (S.tag && r[3].map(function (t) { return D.tags[t]; }).indexOf(S.tag) < 0) return false;
    if (S.outcome) {
      var oi = D.outcomes.map(function (o) { return o[0]; }).indexOf(S.outcome);
      var cells = S.of ? [r[5][V.indexOf(S.of)]] : r[5];
      if (!cells.some(function (c) { return c && c[0] === oi; })) return false;
    }
    if (S.disagree && !disagree(r[5])) return false;
    if (S.pa && S.pb && S.pa !== S.pb && !differ(r[5][V.indexOf(S.pa)], r[5][V.indexOf(S.pb)])) return false;
    return true;
  }
  // An answer is the task's display rows: [label, [[text, mark], ...], row mark], marks indexing D.marks
  // (same, missing, extra, different, near, note). null: no valid answer.
  var TAGS = {missing: ['del', 'missing', 'missing from the prediction'], extra: ['ins', 'extra', 'not in gold'],
    different: ['ins', 'changed', 'not the gold value'], near: ['ins', 'changed', "equal to gold only within the task's tolerance"],
    note: ['span', 'was', '']};
  function wrap(mark, html) {
    var t = TAGS[D.marks[mark]];
    return t ? '<' + t[0] + ' class="' + t[1] + '"' + (t[2] ? ' title="' + esc(t[2]) + '"' : '') + '>' + html + '</' + t[0] + '>' : html;
  }
  function show(rows) {
    if (rows === null) return '<i>no valid answer</i>';
    if (!rows.length) return '<i>empty answer</i>';
    return rows.map(function (r) {
      var marked = r[1].some(function (p) { return p[1] !== 0; });
      var body = '<span class="path">' + esc(r[0]) + '</span>' + r[1].map(function (p) { return wrap(p[1], esc(p[0])); }).join(', ');
      return '<div class="leaf">' + (marked ? body : wrap(r[2], body)) + '</div>';
    }).join('');
  }
  function prediction(gold, c) {
    return c === null || c[0] === 0 || c.length < 3 ? show(gold) : show(c[2]);
  }
  function raw(c) {
    var s = D.strings[c[3]], cut = c[4];
    if (cut < 0) return esc(s);
    return esc(s.slice(0, cut)) + '<mark class="invented" title="invented after the answer">' + esc(s.slice(cut)) + '</mark>';
  }
  function detail(r) {
    var h = '<div class="detail"><div><b>' + esc(key(r)) + '</b>' + (r[3].length ? ' · tags: ' + r[3].map(function (t) { return esc(D.tags[t]); }).join(', ') : '') +
      '</div><div>' + esc(r[2]) + '</div><div class="gold"><b>gold:</b> ' + prediction(r[4], null) + '</div>' +
      '<table><thead><tr><th>variant</th><th>outcome</th><th>ending</th><th>prediction (<del class="missing">missing</del>, <ins class="extra">extra</ins>, ' +
      '<ins class="changed">different</ins>)</th><th>raw output (<mark class="invented">invented</mark>)</th></tr></thead><tbody>';
    V.forEach(function (v, i) {
      var c = r[5][i];
      if (!c) return;
      var o = D.outcomes[c[0]];
      h += '<tr><td>' + esc(v) + '</td><td><span class="o o' + c[0] + '">' + o[3] + '</span> ' + esc(o[1]) + '</td><td>' + esc(D.endings[c[1]][1]) +
        '</td><td>' + prediction(r[4], c) + '</td><td>' + (c.length > 3 ? '<pre>' + raw(c) + '</pre>' : '') + '</td></tr>';
    });
    return h + '</tbody></table></div>';
  }
  function writeHash() {
    var parts = [];
    ['data', 'tag', 'outcome', 'of'].forEach(function (k) { if (S[k]) parts.push(k + '=' + encodeURIComponent(S[k])); });
    if (S.disagree) parts.push('disagree=1');
    if (S.pa && S.pb) parts.push('pair=' + encodeURIComponent(S.pa) + ',' + encodeURIComponent(S.pb));
    if (S.open) parts.push('open=' + encodeURIComponent(S.open));
    var h = parts.length ? '#' + parts.join('&') : ' ';
    if (location.hash !== h) history.replaceState(null, '', h === ' ' ? location.pathname + location.search : h);
  }
  function readHash() {
    S = {data: '', tag: '', outcome: '', of: '', disagree: false, pa: '', pb: '', open: ''};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf('='), k = kv.slice(0, i < 0 ? kv.length : i), v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
      if (k === 'pair') { var p = v.split(','); S.pa = p[0] || ''; S.pb = p[1] || ''; }
      else if (k === 'disagree') S.disagree = v !== '0';
      else if (k in S) S[k] = v;
    });
    $('f-data').value = S.data; $('f-tag').value = S.tag; $('f-outcome').value = S.outcome; $('f-of').value = S.of;
    $('f-disagree').checked = S.disagree; $('f-pa').value = S.pa; $('f-pb').value = S.pb;
  }
  function render() {
    var shown = D.rows.filter(matches), n = shown.length, html = [];
    if (S.open) {
      var at = shown.map(key).indexOf(S.open);
      if (at >= limit) limit = at + 1;
    }
    shown.slice(0, limit).forEach(function (r) {
      var k = key(r), open = k === S.open;
      html.push('<tr class="srow' + (open ? ' open' : '') + '" data-key="' + esc(k) + '"><td class="sid" title="' + esc(k) + '">' + esc(k) +
        '</td><td class="sinput" title="' + esc(r[2]) + '">' + esc(r[2]) + '</td>' + r[5].map(function (c, i) {
          return c ? '<td class="c o' + c[0] + '" title="' + esc(V[i] + ': ' + D.outcomes[c[0]][1] + ', ' + D.endings[c[1]][1]) + '">' + D.outcomes[c[0]][3] + '</td>' : '<td class="c none"></td>';
        }).join('') + '</tr>');
      if (open) html.push('<tr class="sdetail"><td colspan="' + (V.length + 2) + '">' + detail(r) + '</td></tr>');
    });
    $('sample-rows').innerHTML = html.join('');
    $('count').textContent = 'showing ' + Math.min(n, limit) + ' of ' + n + ' matching samples (' + D.rows.length + ' in all)';
    $('count').dataset.matching = n;
    var more = $('more'); more.hidden = n <= limit; more.textContent = 'show ' + Math.min(PAGE, n - limit) + ' more';
    writeHash();
  }
  function changed() {
    S.data = $('f-data').value; S.tag = $('f-tag').value; S.outcome = $('f-outcome').value; S.of = $('f-of').value;
    S.disagree = $('f-disagree').checked; S.pa = $('f-pa').value; S.pb = $('f-pb').value; limit = PAGE; render();
  }
  ['f-data', 'f-tag', 'f-outcome', 'f-of', 'f-disagree', 'f-pa', 'f-pb'].forEach(function (id) { $(id).addEventListener('change', changed); });
  $('f-reset').addEventListener('click', function () { history.replaceState(null, '', location.pathname + location.search); readHash(); limit = PAGE; render(); });
  $('more').addEventListener('click', function () { limit += PAGE; render(); });
  $('sample-rows').addEventListener('click', function (e) {
    var tr = e.target.closest('tr.srow');
    if (!tr) return;
    S.open = S.open === tr.dataset.key ? '' : tr.dataset.key; render();
  });
  window.addEventListener('hashchange', function () { readHash(); render(); });
  readHash(); render();
  if (S.open) { var o = document.querySelector('tr.srow.open'); if (o) o.scrollIntoView({block: 'start'}); }
})();
"""
