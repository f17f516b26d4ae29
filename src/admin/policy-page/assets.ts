/**
 * The page's files, served as they are: plain HTML, CSS and one script, no build step and
 * nothing from another origin (the CSP is `default-src 'self'`). The HTML holds no data; the
 * script fills it from the JSON API with textContent only (never innerHTML), so policy lines
 * and typed-in values, both untrusted, always show as text.
 */

const head = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/page.css">`;

export const PAGE_HTML = `${head('Policy page')}
<script src="/page.js" defer></script>
</head>
<body>
<header>
  <h1>Policy page</h1>
  <p>Live policy <code id="version">…</code> · <span id="evaluator"></span> · mode <span id="mode"></span> · candidate <code id="candidate-version">none</code></p>
  <p id="reload-error" hidden></p>
  <button id="refresh" type="button">Refresh</button>
  <form id="logout" method="post" action="/logout"><button type="submit">Log out</button></form>
</header>
<main>
<section id="explain-section">
  <h2>Explain a decision</h2>
  <form id="explain">
    <label>User <input id="user" name="user" autocomplete="off" placeholder="empty for anonymous"></label>
    <label>Roles <input id="roles" name="roles" autocomplete="off" placeholder="role:a,role:b"></label>
    <label>Action <input id="action" name="action" list="actions" autocomplete="off" required></label>
    <datalist id="actions"><option value="connect"><option value="refresh"><option value="subscribe"><option value="publish"><option value="sub_refresh"><option value="rpc"></datalist>
    <label>Object <input id="object" name="object" autocomplete="off" placeholder="channel or RPC method; empty for connect"></label>
    <button type="submit">Explain</button>
  </form>
  <div id="explain-result" hidden>
    <p>Decision: <strong id="decision"></strong> (policy <code id="explain-version"></code>)</p>
    <ul id="explain-warnings" class="warnings"></ul>
    <h3>Decided by</h3><ul id="deciding"></ul>
    <h3>Also matched</h3><ul id="matched"></ul>
    <h3>Nearest lines that did not match</h3><ul id="near-misses"></ul>
  </div>
</section>
<section id="tests-section">
  <h2>Policy tests</h2>
  <p id="tests-summary">…</p>
  <ul id="tests-problems" class="warnings"></ul>
  <h3>Coverage</h3><ul id="coverage"></ul>
  <table><thead><tr><th>result</th><th>case</th><th>question</th><th>expected</th><th>got</th><th>deciding line</th></tr></thead><tbody id="cases"></tbody></table>
</section>
<section id="disagreements-section">
  <h2>Candidate disagreements</h2>
  <p id="disagreements-summary">…</p>
  <table><thead><tr><th>at</th><th>user</th><th>roles</th><th>action</th><th>object</th><th>live</th><th>candidate</th></tr></thead><tbody id="disagreements"></tbody></table>
</section>
<section id="policy-section">
  <h2>Live policy</h2>
  <ul id="lint" class="warnings"></ul>
  <p id="rules-summary"></p>
  <table><thead><tr><th>where</th><th>rule</th></tr></thead><tbody id="rules"></tbody></table>
</section>
</main>
</body>
</html>
`;

export const loginHtml = (refused: boolean): string => `${head('Policy page: log in')}
</head>
<body>
<main>
<h1>Policy page</h1>
<form method="post" action="/login">
  <label>Token <input type="password" name="token" id="token" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
</form>
${refused ? '<p id="refused">That token is not the policy page\'s token.</p>' : ''}
</main>
</body>
</html>
`;

export const PAGE_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
code, td.rule, td.where { font-family: ui-monospace, monospace; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
label { margin-right: 1rem; }
form { margin: .5rem 0; }
header form { display: inline; }
.allow { color: #11661f; font-weight: bold; }
.deny { color: #a11; font-weight: bold; }
.warnings li, #reload-error, #refused { color: #8a4b00; }
section { margin-top: 1.5rem; }
`;

/** Rows shown for the rule list; a larger policy is summarised (the JSON API has every line). */
const MAX_RULE_ROWS = 2000;

export const PAGE_JS = `'use strict';
(function () {
  var MAX_RULE_ROWS = ${MAX_RULE_ROWS};
  function $(id) { return document.getElementById(id); }
  // Every value goes in as text: policy lines and typed-in questions are untrusted.
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }
  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (cell) {
      var td = typeof cell === 'string' ? el('td', cell) : cell;
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(id, nodes) {
    var parent = $(id);
    parent.replaceChildren.apply(parent, nodes);
  }
  function where(r) { return r.file + ':' + r.line; }
  function line(r) { return where(r) + ': ' + r.rule; }
  function decisionCell(value) { return el('td', value, value); }
  function api(path) {
    return fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (res) {
      if (res.status === 401) { window.location.assign('/login'); throw new Error('not logged in'); }
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
        return body;
      });
    });
  }
  function via(route) {
    if (!route) return '';
    var start = route.start === 'user' ? 'the user\\'s own ID "' + route.name + '"' : route.start === 'implicit' ? 'the implicit role ' + route.name : 'the token role ' + route.name;
    return [start].concat(route.links.map(function (l) { return l.rule + ' (' + where(l) + ')'; })).join(' → ');
  }
  function ruleItem(r) {
    var li = el('li');
    li.appendChild(el('code', line(r), 'rule'));
    var how = via(r.subject_via);
    if (how) li.appendChild(el('div', 'held via ' + how, 'via'));
    return li;
  }

  function showPolicy(p) {
    $('version').textContent = p.policy_version;
    $('evaluator').textContent = p.evaluator;
    $('mode').textContent = p.mode;
    $('candidate-version').textContent = p.candidate_version === null ? 'none' : p.candidate_version;
    var error = $('reload-error');
    error.hidden = p.last_reload_error === null;
    error.textContent = p.last_reload_error ? 'Last reload refused (' + p.last_reload_error.at + '): ' + p.last_reload_error.error : '';
    fill('lint', p.warnings.map(function (w) { return el('li', w); }));
    var shown = p.rules.slice(0, MAX_RULE_ROWS);
    $('rules-summary').textContent = p.rules.length + ' lines in ' + p.files.join(', ') + (shown.length < p.rules.length ? ' (first ' + shown.length + ' shown; /api/policy has all)' : '');
    fill('rules', shown.map(function (r) { return row([el('td', where(r), 'where'), el('td', r.rule, 'rule')]); }));
  }

  function showTests(t) {
    $('tests-summary').textContent = t.passed + ' passed, ' + t.failed + ' failed';
    fill('tests-problems', t.problems.map(function (p) { return el('li', p); }));
    fill('coverage', t.coverage_lines.map(function (l) { return el('li', l); }));
    fill('cases', t.cases.map(function (c) {
      var question = 'user "' + c.user + '"' + (c.roles.length ? ' roles ' + c.roles.join(',') : '') + ' ' + c.action + ' "' + c.object + '"';
      return row([el('td', c.passed ? 'pass' : 'FAIL', c.passed ? 'allow' : 'deny'), c.file + ' #' + c.index + ': ' + c.note, question, c.expect, decisionCell(c.got), c.deciding.length ? line(c.deciding[0]) : 'no rule matched (default deny)']);
    }));
  }

  function showDisagreements(d) {
    if (d.candidate_version === null && d.total === 0) $('disagreements-summary').textContent = 'No candidate policy loaded (policy.candidate).';
    else $('disagreements-summary').textContent = d.total + ' disagreement(s) since start with candidate ' + (d.candidate_version || 'none') + '; the latest ' + d.disagreements.length + ' (of at most ' + d.capacity + ') below.';
    fill('disagreements', d.disagreements.map(function (x) {
      return row([x.at, x.user, x.roles.join(','), x.action, x.object, decisionCell(x.live), decisionCell(x.candidate)]);
    }));
  }

  function showExplain(e) {
    $('explain-result').hidden = false;
    var decision = $('decision');
    decision.textContent = e.decision;
    decision.className = e.decision;
    $('explain-version').textContent = e.policy_version;
    fill('explain-warnings', e.warnings.map(function (w) { return el('li', w); }));
    fill('deciding', e.deciding.length ? e.deciding.map(ruleItem) : [el('li', 'no rule matched (default deny)')]);
    fill('matched', e.matched.filter(function (m) { return !e.deciding.some(function (d) { return d.file === m.file && d.line === m.line; }); }).map(ruleItem));
    fill('near-misses', e.near_misses.map(function (m) { return el('li', line(m) + ' (' + m.why + ')'); }));
  }

  function failed(id) {
    return function (err) { $(id).textContent = 'Could not load: ' + err.message; };
  }
  function load() {
    api('/api/policy').then(showPolicy, failed('rules-summary'));
    api('/api/tests').then(showTests, failed('tests-summary'));
    api('/api/disagreements').then(showDisagreements, failed('disagreements-summary'));
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('refresh').addEventListener('click', load);
    $('explain').addEventListener('submit', function (event) {
      event.preventDefault();
      var query = new URLSearchParams({ user: $('user').value, roles: $('roles').value, action: $('action').value, object: $('object').value });
      api('/api/explain?' + query.toString()).then(showExplain, function (err) {
        $('explain-result').hidden = false;
        $('decision').textContent = err.message;
        $('decision').className = '';
      });
    });
    load();
  });
})();
`;
