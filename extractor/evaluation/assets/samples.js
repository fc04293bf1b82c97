
(function () {
  var el = document.getElementById('samples-data');
  if (!el) return;
  var D = JSON.parse(el.textContent), V = D.variants, PAGE = 100, limit = PAGE, S;
  var DEF = D.decision && D.data.indexOf(D.decision) >= 0 ? D.decision : '';  // the data filter's default
  var EX = D.exact || [], O = D.outcomes.map(function (o) { return o[0]; });
  function blank() { return {q: '', data: DEF, tag: '', outcome: '', of: '', disagree: false, pa: '', pb: '', sort: '', sa: '', sb: '', open: ''}; }
  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
  function fill(id, values, labels) {
    var s = $(id);
    values.forEach(function (v, i) { var o = document.createElement('option'); o.value = v; o.textContent = labels ? labels[i] : v; s.appendChild(o); });
  }
  fill('f-data', D.data); fill('f-tag', D.tags.slice().sort());
  fill('f-outcome', O, D.outcomes.map(function (o) { return o[1]; }));
  ['f-of', 'f-pa', 'f-pb', 'f-sa', 'f-sb'].forEach(function (id) { fill(id, V); });
  var head = $('sample-table').tHead.rows[0];
  V.forEach(function (v) {
    var th = document.createElement('th'), sp = document.createElement('span');
    th.className = 'v'; th.title = v + ' (click to sort)'; th.dataset.sort = 'v:' + v; th.tabIndex = 0;
    sp.textContent = v; th.appendChild(sp); head.appendChild(th);
  });
  function key(r) { return D.data[r[0]] + '/' + r[1]; }
  function answer(c) { return c[0] !== 0 && c.length > 2 ? JSON.stringify(c[2]) : 'gold'; }
  function differ(a, b) { return !!(a && b) && (a[0] !== b[0] || a[1] !== b[1] || answer(a) !== answer(b)); }
  function disagree(cells) {
    var seen = cells.filter(function (c) { return c; });
    for (var i = 1; i < seen.length; i++) if (differ(seen[0], seen[i])) return true;
    return false;
  }
  // The raw output of variant i on row r (shortened as the payload keeps it); '' when it has none.
  function output(r, i) {
    var c = r[5][i];
    if (!c) return '';
    if (c.length > 3) return D.strings[c[3]];
    return r[6] && r[6][i] !== null && r[6][i] !== undefined ? EX[r[6][i]] : '';
  }
  var HAY = D.rows.map(function (r) { return [key(r), r[2]].concat(V.map(function (v, i) { return output(r, i); })).join('\n').toLowerCase(); });
  D.rows.forEach(function (r, i) { r.at = i; });
  function matches(r) {
    if (S.data && D.data[r[0]] !== S.data) return false;
    if (S.tag && r[3].map(function (t) { return D.tags[t]; }).indexOf(S.tag) < 0) return false;
    if (S.outcome) {
      var oi = O.indexOf(S.outcome), cells = S.of ? [r[5][V.indexOf(S.of)]] : r[5];
      if (!cells.some(function (c) { return c && c[0] === oi; })) return false;
    }
    if (S.disagree && !disagree(r[5])) return false;
    if (S.pa && S.pb && S.pa !== S.pb && !differ(r[5][V.indexOf(S.pa)], r[5][V.indexOf(S.pb)])) return false;
    if (S.q) {
      var hay = HAY[r.at], words = S.q.toLowerCase().split(/\s+/).filter(Boolean);
      if (!words.every(function (w) { return hay.indexOf(w) >= 0; })) return false;
    }
    return true;
  }
  var COLL = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'});
  function sorted(rows) {
    if (!S.sort) return rows;
    var desc = S.sort.charAt(0) === '-', k = desc ? S.sort.slice(1) : S.sort, vi = k.indexOf('v:') === 0 ? V.indexOf(k.slice(2)) : -2, cmp;
    if (k === 'id') cmp = function (a, b) { return COLL.compare(key(a), key(b)); };
    else if (k === 'input') cmp = function (a, b) { return COLL.compare(a[2], b[2]); };
    else if (vi >= 0) cmp = function (a, b) {
      var ca = a[5][vi], cb = b[5][vi];
      return (ca ? ca[0] * 100 + ca[1] : 1e6) - (cb ? cb[0] * 100 + cb[1] : 1e6);
    };
    else return rows;
    return rows.slice().sort(function (a, b) { return (desc ? -cmp(a, b) : cmp(a, b)) || a.at - b.at; });
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
  function text(rows) {
    return rows === null ? '' : rows.map(function (r) { return r[0] + ' ' + r[1].map(function (p) { return p[0]; }).join(', '); }).join('; ');
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
  // A word-level diff of two texts: the common prefix and suffix, then the longest common subsequence
  // of the tokens between (when small enough; else the middle is all changed). Returns the two sides
  // as escaped HTML, the tokens only one side has marked (del.da on the left, ins.db on the right).
  function diff(a, b) {
    var ta = a.match(/\s+|\w+|[^\s\w]/g) || [], tb = b.match(/\s+|\w+|[^\s\w]/g) || [], p = 0, s = 0;
    while (p < ta.length && p < tb.length && ta[p] === tb[p]) p++;
    while (s < ta.length - p && s < tb.length - p && ta[ta.length - 1 - s] === tb[tb.length - 1 - s]) s++;
    var ma = ta.slice(p, ta.length - s), mb = tb.slice(p, tb.length - s), n = ma.length, m = mb.length, ka = [], kb = [], i, j;
    for (i = 0; i < n; i++) ka.push(false);
    for (j = 0; j < m; j++) kb.push(false);
    if (n && m && n * m <= 250000) {
      var L = [];
      for (i = 0; i <= n; i++) L.push(new Uint16Array(m + 1));
      for (i = n - 1; i >= 0; i--) for (j = m - 1; j >= 0; j--) L[i][j] = ma[i] === mb[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
      for (i = 0, j = 0; i < n && j < m;) {
        if (ma[i] === mb[j]) { ka[i++] = kb[j++] = true; } else if (L[i + 1][j] >= L[i][j + 1]) i++; else j++;
      }
    }
    function side(all, mid, kept, tag) {
      var h = esc(all.slice(0, p).join('')), run = '';
      mid.forEach(function (t, k) {
        if (kept[k]) { if (run) h += tag[0] + esc(run) + tag[1]; run = ''; h += esc(t); } else run += t;
      });
      if (run) h += tag[0] + esc(run) + tag[1];
      return h + esc(all.slice(all.length - s).join(''));
    }
    return [side(ta, ma, ka, ['<del class="da">', '</del>']), side(tb, mb, kb, ['<ins class="db">', '</ins>'])];
  }
  function pairRow(r) {
    var ia = V.indexOf(S.sa), ib = V.indexOf(S.sb), d = diff(output(r, ia), output(r, ib));
    return '<tr class="spair"><td colspan="' + (V.length + 2) + '"><div class="side">' + [ia, ib].map(function (vi, k) {
      var c = r[5][vi], o = c ? D.outcomes[c[0]] : null;
      return '<div><div class="sh"><b>' + esc(V[vi]) + '</b> ' + (o ? '<span class="o o' + c[0] + '">' + o[3] + '</span> ' + esc(o[1]) : '<i>no sample</i>') +
        '</div>' + (c ? '<pre>' + d[k] + '</pre>' : '') + '</div>';
    }).join('') + '</div></td></tr>';
  }
  function writeHash() {
    var parts = [];
    if (S.q) parts.push('q=' + encodeURIComponent(S.q));
    if (S.data !== DEF) parts.push('data=' + encodeURIComponent(S.data || '*'));
    ['tag', 'outcome', 'of', 'sort'].forEach(function (k) { if (S[k]) parts.push(k + '=' + encodeURIComponent(S[k])); });
    if (S.disagree) parts.push('disagree=1');
    if (S.pa && S.pb) parts.push('pair=' + encodeURIComponent(S.pa) + ',' + encodeURIComponent(S.pb));
    if (S.sa && S.sb) parts.push('side=' + encodeURIComponent(S.sa) + ',' + encodeURIComponent(S.sb));
    if (S.open) parts.push('open=' + encodeURIComponent(S.open));
    var h = parts.length ? '#' + parts.join('&') : ' ';
    if (location.hash !== h) history.replaceState(null, '', h === ' ' ? location.pathname + location.search : h);
  }
  function readHash() {
    S = blank();
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf('='), k = kv.slice(0, i < 0 ? kv.length : i), v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
      if (k === 'pair' || k === 'side') { var p = v.split(','); S[k === 'pair' ? 'pa' : 'sa'] = p[0] || ''; S[k === 'pair' ? 'pb' : 'sb'] = p[1] || ''; }
      else if (k === 'disagree') S.disagree = v !== '0';
      else if (k === 'data') S.data = v === '*' ? '' : v;
      else if (k in S) S[k] = v;
    });
    $('f-q').value = S.q; $('f-data').value = S.data; $('f-tag').value = S.tag; $('f-outcome').value = S.outcome; $('f-of').value = S.of;
    $('f-disagree').checked = S.disagree; $('f-pa').value = S.pa; $('f-pb').value = S.pb; $('f-sa').value = S.sa; $('f-sb').value = S.sb;
  }
  function shownRows() { return sorted(D.rows.filter(matches)); }
  function render() {
    var shown = shownRows(), n = shown.length, html = [], side = S.sa && S.sb && S.sa !== S.sb && V.indexOf(S.sa) >= 0 && V.indexOf(S.sb) >= 0;
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
      if (side) html.push(pairRow(r));
      if (open) html.push('<tr class="sdetail"><td colspan="' + (V.length + 2) + '">' + detail(r) + '</td></tr>');
    });
    $('sample-rows').innerHTML = html.join('');
    [].forEach.call(head.cells, function (th) {
      var s = th.dataset.sort;
      if (S.sort === s) th.setAttribute('aria-sort', 'ascending'); else if (S.sort === '-' + s) th.setAttribute('aria-sort', 'descending'); else th.removeAttribute('aria-sort');
    });
    $('count').textContent = 'showing ' + Math.min(n, limit) + ' of ' + n + ' matching samples (' + D.rows.length + ' in all)';
    $('count').dataset.matching = n;
    var more = $('more'); more.hidden = n <= limit; more.textContent = 'show ' + Math.min(PAGE, n - limit) + ' more';
    writeHash();
  }
  // Downloads: the matching rows (all pages, in the shown order), built from the payload in the page.
  function records() {
    return shownRows().map(function (r) {
      var vs = {};
      V.forEach(function (v, i) { var c = r[5][i]; if (c) vs[v] = {outcome: O[c[0]], ending: D.endings[c[1]][0], output: output(r, i)}; });
      return {data: D.data[r[0]], id: r[1], tags: r[3].map(function (t) { return D.tags[t]; }), input: r[2], gold: text(r[4]), variants: vs};
    });
  }
  function csvField(s) {
    s = String(s);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;  // a spreadsheet would run it as a formula
    return '"' + s.replace(/"/g, '""') + '"';
  }
  function download(name, type, body) {
    window.__lastDownload = {name: name, type: type, text: body};
    var url = URL.createObjectURL(new Blob([body], {type: type})), a = document.createElement('a');
    a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }
  $('dl-jsonl').addEventListener('click', function () {
    download('samples-view.jsonl', 'application/x-ndjson', records().map(function (x) { return JSON.stringify(x) + '\n'; }).join(''));
  });
  $('dl-csv').addEventListener('click', function () {
    var cols = ['data', 'id', 'tags', 'input', 'gold'], lines = [];
    V.forEach(function (v) { cols.push(v + ' outcome', v + ' ending', v + ' output'); });
    lines.push(cols.map(csvField).join(','));
    records().forEach(function (x) {
      var row = [x.data, x.id, x.tags.join(' '), x.input, x.gold];
      V.forEach(function (v) { var c = x.variants[v] || {outcome: '', ending: '', output: ''}; row.push(c.outcome, c.ending, c.output); });
      lines.push(row.map(csvField).join(','));
    });
    download('samples-view.csv', 'text/csv;charset=utf-8', lines.join('\r\n') + '\r\n');
  });
  function changed() {
    S.q = $('f-q').value; S.data = $('f-data').value; S.tag = $('f-tag').value; S.outcome = $('f-outcome').value; S.of = $('f-of').value;
    S.disagree = $('f-disagree').checked; S.pa = $('f-pa').value; S.pb = $('f-pb').value; S.sa = $('f-sa').value; S.sb = $('f-sb').value;
    limit = PAGE; render();
  }
  ['f-data', 'f-tag', 'f-outcome', 'f-of', 'f-disagree', 'f-pa', 'f-pb', 'f-sa', 'f-sb'].forEach(function (id) { $(id).addEventListener('change', changed); });
  $('f-q').addEventListener('input', changed);
  function sortBy(th) {
    var s = th && th.dataset.sort;
    if (!s) return;
    S.sort = S.sort === s ? '-' + s : s; limit = PAGE; render();
  }
  head.addEventListener('click', function (e) { sortBy(e.target.closest('th')); });
  head.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(e.target.closest('th')); } });
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
