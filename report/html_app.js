/*
 * drift's HTML report: the findings table (report/html.c writes the data).
 * #drift-findings holds one array per row: [SECTION, CHANGE, SEVERITY,
 * NOVELTY, FLAGS, KIND, NAME, RULE, REASON, PACKAGE, EVENT], #drift-rules
 * the rules rows name by index, and #drift-details one JSON object per
 * row, a line each, parsed only when the reader opens a row. This draws
 * one page of rows at a time, with filters, sorting, grouping and a
 * details view per row. Host strings reach the page through textContent
 * only, never as markup.
 *
 * The script runs before the parser has read #drift-details (the bulk of
 * the bytes, after it): the first page is drawn at once, a row opened
 * before the details are read shows them once the document is loaded.
 *
 * On success <html> gets data-rendered="1" and data-render-ms (time since
 * navigation start: the first page is drawn, the table works), then, when
 * the whole document is read, data-loaded-ms; any error is recorded in
 * data-error.
 */
(function () {
	'use strict';
	var root = document.documentElement;
	window.addEventListener('error', function (ev) {
		root.setAttribute('data-error', String(ev.message || 'error'));
	});

	var PAGE = 100;
	var SEV_RANK = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
	var CH_RANK = { added: 1, removed: 2, modified: 3 };
	/* The numbering of report/internal.h's sections and common/verdict.h's enums. */
	var SECTIONS = ['critical', 'high', 'medium', 'low', 'info', 'added', 'removed', 'modified',
		'expected', 'waived', 'unreadable', 'resolved'];
	var UNREADABLE = SECTIONS.indexOf('unreadable');
	var CHANGES = ['added', 'removed', 'modified'];
	var SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
	var NOVELTIES = ['', 'new', 'persisting', 'resolved'];
	var FILE_ATTRS = ['type', 'mode', 'uid', 'gid', 'size', 'mtime', 'hash', 'target', 'rdev'];

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}

	function option(sel, value, text) {
		var o = el('option', null, text);
		o.value = value;
		sel.appendChild(o);
		return o;
	}

	function labelled(text, control) {
		var l = el('label', null, text + ' ');
		l.appendChild(control);
		return l;
	}

	function dirOf(it) {
		if (it.k !== 'file')
			return '(' + it.k + ')';
		var i = it.p.lastIndexOf('/');
		return i <= 0 ? '/' : it.p.slice(0, i);
	}

	function pkgOf(it) {
		return it.pkg ? it.pkg : it.own ? '(unowned)' : '(no package)';
	}

	var GROUPS = {
		'': null,
		dir: { name: 'directory', key: dirOf },
		pkg: { name: 'package', key: pkgOf },
		kind: { name: 'kind', key: function (it) { return it.k; } },
		ev: { name: 'event', key: function (it) { return it.ev || '(no event)'; } }
	};

	function sevRank(it) {
		return it.sev ? SEV_RANK[it.sev] || 0 : 0;
	}

	function cmpStr(a, b) {
		return a < b ? -1 : a > b ? 1 : 0;
	}

	var SORTS = {
		sev: function (a, b) { return sevRank(b) - sevRank(a); },
		path: function (a, b) { return cmpStr(a.p, b.p); },
		kind: function (a, b) { return cmpStr(a.k, b.k); },
		ch: function (a, b) { return (CH_RANK[a.ch] || 9) - (CH_RANK[b.ch] || 9); }
	};

	function haystack(it) {
		if (it._h === undefined)
			it._h = [it.p, it.ri, it.rule ? it.rule[1] : '', it.why, it.pkg, it.err, it.ev, it.k]
				.filter(Boolean).join('\n').toLowerCase();
		return it._h;
	}

	function main() {
		var rules = JSON.parse(document.getElementById('drift-rules').textContent);
		var rows = JSON.parse(document.getElementById('drift-findings').textContent);
		/* A row as an object: its fields are read from the array when used, so
		 * that 100,000 rows cost 100,000 small objects, not 1.7 million fields. */
		function Item(r, i) {
			this.r = r;
			this.i = i;
		}
		function field(get) {
			return { get: get };
		}
		Object.defineProperties(Item.prototype, {
			sec: field(function () { return SECTIONS[this.r[0]]; }),
			ch: field(function () { return CHANGES[this.r[1]] || ''; }),
			sev: field(function () { return SEVERITIES[this.r[2]] || ''; }),
			nov: field(function () { return NOVELTIES[this.r[3]] || ''; }),
			own: field(function () { return this.r[4] & 1; }),
			cwr: field(function () { return this.r[4] & 2; }),
			sparse: field(function () { return this.r[4] & 4; }),
			cls: field(function () {
				return this.r[0] === UNREADABLE ? 'unreadable'
					: this.r[4] & 8 ? 'expected' : this.r[4] & 16 ? 'waived' : 'drift';
			}),
			k: field(function () { return this.r[5]; }),
			p: field(function () { return this.r[6]; }),
			rule: field(function () { return this.r[7] >= 0 ? rules[this.r[7]] : null; }),
			ri: field(function () { return this.r[7] >= 0 ? rules[this.r[7]][0] : ''; }),
			why: field(function () { return this.r[0] === UNREADABLE ? '' : this.r[8]; }),
			err: field(function () { return this.r[0] === UNREADABLE ? this.r[8] : ''; }),
			pkg: field(function () { return this.r[9]; }),
			ev: field(function () { return this.r[10]; })
		});
		var items = new Array(rows.length);
		var hasEvent = false, hasNew = false, nResolved = 0;
		for (var i = 0; i < rows.length; i++) {
			var it = items[i] = new Item(rows[i], i);
			if (it.ev)
				hasEvent = true;
			if (it.nov === 'new')
				hasNew = true;
			if (it.sec === 'resolved')
				nResolved++;
		}

		var state = { cls: 'current', sev: '', ch: '', q: '', group: '', sort: '', dir: 1, page: 0 };
		var open = {};
		var view = [], groupCount = {};

		/* ---- controls ---- */
		var app = document.getElementById('app');
		var controls = el('div', 'controls');
		var search = el('input');
		search.type = 'search';
		search.placeholder = 'path, rule, reason, package';
		search.setAttribute('aria-label', 'search');
		var clsSel = el('select');
		option(clsSel, 'current', 'all current');
		option(clsSel, 'drift', 'drift');
		option(clsSel, 'expected', 'expected');
		option(clsSel, 'waived', 'waived');
		option(clsSel, 'unreadable', 'unreadable');
		if (nResolved)
			option(clsSel, 'resolved', 'resolved since last run (' + nResolved + ')');
		var sevSel = el('select');
		option(sevSel, '', 'any');
		['critical', 'high', 'medium', 'low', 'info'].forEach(function (s) {
			option(sevSel, s, s + ' and above');
		});
		option(sevSel, 'none', 'no verdict');
		var chSel = el('select');
		option(chSel, '', 'any');
		['added', 'removed', 'modified'].forEach(function (c) { option(chSel, c, c); });
		var grpSel = el('select');
		option(grpSel, '', 'nothing');
		option(grpSel, 'dir', 'directory');
		option(grpSel, 'pkg', 'package');
		option(grpSel, 'kind', 'kind');
		if (hasEvent)
			option(grpSel, 'ev', 'event');
		controls.appendChild(labelled('Search', search));
		controls.appendChild(labelled('Class', clsSel));
		controls.appendChild(labelled('Severity', sevSel));
		controls.appendChild(labelled('Change', chSel));
		controls.appendChild(labelled('Group by', grpSel));
		app.appendChild(controls);

		var pagerTop = el('div', 'pager'), pagerBottom = el('div', 'pager');
		app.appendChild(pagerTop);

		/* ---- table ---- */
		var table = el('table', 'findings');
		var colgroup = el('colgroup');
		var cols = [['c-sev', 'Severity', 'sev'], ['c-ch', 'Change', 'ch'], ['c-kind', 'Kind', 'kind'],
			['c-path', 'Path / key', 'path'], ['c-why', 'Rule and reason', null],
			['c-pkg', 'Package', null]];
		if (hasEvent)
			cols.push(['c-ev', 'Event', null]);
		var thead = el('thead'), hr = el('tr'), ths = {};
		cols.forEach(function (c) {
			colgroup.appendChild(el('col', c[0]));
			var th = el('th', c[2] ? 'sortable' : null, c[1]);
			if (c[2]) {
				th.setAttribute('data-sort', c[2]);
				th.tabIndex = 0;
				th.addEventListener('click', function () { setSort(c[2]); });
				th.addEventListener('keydown', function (ev) {
					if (ev.key === 'Enter')
						setSort(c[2]);
				});
				ths[c[2]] = th;
			}
			hr.appendChild(th);
		});
		thead.appendChild(hr);
		table.appendChild(colgroup);
		table.appendChild(thead);
		var tbody = el('tbody');
		table.appendChild(tbody);
		app.appendChild(table);
		app.appendChild(pagerBottom);

		function matches(it) {
			var c = state.cls;
			if (c === 'resolved') {
				if (it.sec !== 'resolved')
					return false;
			} else {
				if (it.sec === 'resolved')
					return false;
				if (c === 'unreadable' && it.cls !== 'unreadable')
					return false;
				if (c === 'expected' && it.cls !== 'expected')
					return false;
				if (c === 'waived' && it.cls !== 'waived')
					return false;
				if (c === 'drift' && it.cls !== 'drift')
					return false;
			}
			if (state.sev === 'none') {
				if (it.sev || it.cls === 'unreadable')
					return false;
			} else if (state.sev && sevRank(it) < SEV_RANK[state.sev]) {
				return false;
			}
			if (state.ch && it.ch !== state.ch)
				return false;
			if (state.q && haystack(it).indexOf(state.q) < 0)
				return false;
			return true;
		}

		function compute() {
			view = [];
			for (var i = 0; i < items.length; i++)
				if (matches(items[i]))
					view.push(items[i]);
			var g = GROUPS[state.group], s = SORTS[state.sort], d = state.dir;
			groupCount = {};
			if (g) {
				for (var j = 0; j < view.length; j++) {
					var k = view[j]._g = g.key(view[j]);
					groupCount[k] = (groupCount[k] || 0) + 1;
				}
			}
			if (g || s) {
				view.sort(function (a, b) {
					var r = g ? cmpStr(a._g, b._g) : 0;
					if (!r && s)
						r = d * s(a, b);
					return r || a.i - b.i;
				});
			}
			var pages = Math.max(1, Math.ceil(view.length / PAGE));
			if (state.page >= pages)
				state.page = pages - 1;
		}

		function sevCell(it) {
			var td = el('td');
			if (it.cls === 'unreadable') {
				td.appendChild(el('span', 'sev unreadable', 'unreadable'));
				return td;
			}
			/* An expected finding says so; its severity is in its details. */
			if (it.cls === 'expected' || it.cls === 'waived')
				td.appendChild(el('span', 'sev ' + it.cls, it.cls));
			else
				td.appendChild(el('span', 'sev ' + (it.sev || 'none'), it.sev || 'no verdict'));
			return td;
		}

		function addDef(dl, name, value) {
			if (value === undefined || value === null || value === '')
				return;
			dl.appendChild(el('dt', null, name));
			dl.appendChild(el('dd', null, value));
		}

		function pkgText(it, x) {
			if (it.own)
				return 'unowned (no package owns it)';
			if (!it.pkg)
				return '';
			var ov = x.pov, nv = x.pnv;
			if (ov && nv && ov !== nv)
				return it.pkg + ' ' + ov + ' \u2192 ' + nv;
			return it.pkg + (ov || nv ? ' ' + (ov || nv) : '');
		}

		function ruleText(it) {
			var r = it.rule;
			if (!r)
				return '';
			var t = r[0];
			if (r[1])
				t += ' \u2014 ' + r[1];
			if (r[2])
				t += ' (' + r[2] + (r[3] ? ':' + r[3] : '') + ')';
			return t;
		}

		/* Row @i's details: its line of #drift-details, found and parsed on first use. */
		var detailText = null, detailStarts = null, detailCache = {};
		function detailsOf(i) {
			if (detailCache[i])
				return detailCache[i];
			if (!detailStarts) {
				if (document.readyState === 'loading')
					return null; /* still being read: draw() again when it is */
				detailText = document.getElementById('drift-details').textContent;
				detailStarts = [];
				var pos = detailText.charAt(0) === '\n' ? 1 : 0;
				while (pos < detailText.length) {
					detailStarts.push(pos);
					var nl = detailText.indexOf('\n', pos);
					pos = nl < 0 ? detailText.length : nl + 1;
				}
			}
			var start = detailStarts[i], end = detailText.indexOf('\n', start);
			var d = start === undefined ? {} :
				JSON.parse(detailText.slice(start, end < 0 ? detailText.length : end));
			detailCache[i] = d;
			return d;
		}

		function details(it, ncols) {
			var x = detailsOf(it.i);
			var tr = el('tr', 'details'), td = el('td', 'details');
			if (!x) {
				document.addEventListener('DOMContentLoaded', draw, { once: true });
				td.colSpan = ncols;
				td.appendChild(el('p', 'muted', 'Reading the details\u2026'));
				tr.appendChild(td);
				return tr;
			}
			td.colSpan = ncols;
			var dl = el('dl');
			addDef(dl, it.k === 'file' ? 'path' : it.k, it.p);
			addDef(dl, 'change', it.ch ? it.ch + (x.t ? ' (' + x.t + ')' : '') : '');
			addDef(dl, 'class', it.cls);
			addDef(dl, 'severity', it.sev || (it.cls === 'unreadable' ? '' : 'no verdict'));
			addDef(dl, 'rule', ruleText(it));
			addDef(dl, 'reason', it.why);
			addDef(dl, 'package', pkgText(it, x));
			addDef(dl, 'event', it.ev);
			addDef(dl, 'since last run', it.nov);
			addDef(dl, 'error', it.err);
			if (it.cwr)
				addDef(dl, 'note', 'changed while it was read');
			if (it.sparse)
				addDef(dl, 'note', 'not hashed: too sparse');
			td.appendChild(dl);
			var t, row;
			if (x.a && x.a.length) {
				t = el('table');
				row = el('tr');
				['attribute', 'old', 'new'].forEach(function (h) { row.appendChild(el('th', null, h)); });
				t.appendChild(row);
				x.a.forEach(function (r) {
					var tr2 = el('tr');
					tr2.appendChild(el('td', null, r[0]));
					tr2.appendChild(el('td', null, r[1]));
					tr2.appendChild(el('td', null, r[2]));
					t.appendChild(tr2);
				});
				td.appendChild(t);
			}
			var attrs = x.e || (x.f || []).map(function (v, n) { return [FILE_ATTRS[n], v]; })
				.filter(function (r) { return r[1] !== ''; });
			if (attrs.length) {
				t = el('table');
				attrs.forEach(function (r) {
					var tr2 = el('tr');
					tr2.appendChild(el('th', null, r[0]));
					tr2.appendChild(el('td', null, r[1]));
					t.appendChild(tr2);
				});
				td.appendChild(t);
			}
			if (x.diffbin)
				td.appendChild(el('p', null, 'content: binary content differs'));
			if (x.diff) {
				var pre = el('pre', 'diff');
				x.diff.forEach(function (line, n) {
					var c = n < 2 ? 'hunk' : line.charAt(0) === '+' ? 'add' :
						line.charAt(0) === '-' ? 'del' : line.charAt(0) === '@' ? 'hunk' : null;
					pre.appendChild(c ? el('span', c, line) : document.createTextNode(line + '\n'));
				});
				td.appendChild(pre);
				if (x.diffomit)
					td.appendChild(el('p', 'muted', '\u2026 ' + x.diffomit + ' more lines (drift show ' +
						(x.show || 'SNAPSHOT') + ' ' + it.p + ')'));
			}
			tr.appendChild(td);
			return tr;
		}

		function row(it, ncols) {
			var tr = el('tr', 'item');
			tr.tabIndex = 0;
			tr.setAttribute('data-i', it.i);
			tr.appendChild(sevCell(it));
			tr.appendChild(el('td', 'ch ' + (it.ch || ''), it.ch || ''));
			tr.appendChild(el('td', null, it.k));
			var p = el('td', 'path', it.p);
			if (it.nov === 'new')
				p.appendChild(el('span', 'badge new', 'new'));
			tr.appendChild(p);
			var w = el('td');
			if (it.ri)
				w.appendChild(el('code', null, it.ri));
			if (it.why || it.err)
				w.appendChild(el('span', 'why', (it.ri ? ' ' : '') + (it.why || it.err)));
			tr.appendChild(w);
			tr.appendChild(el('td', null, it.own ? 'unowned' : it.pkg || ''));
			if (hasEvent)
				tr.appendChild(el('td', null, it.ev));
			function toggle() {
				open[it.i] = !open[it.i];
				draw();
			}
			tr.addEventListener('click', toggle);
			tr.addEventListener('keydown', function (ev) {
				if (ev.key === 'Enter' || ev.key === ' ') {
					ev.preventDefault();
					toggle();
				}
			});
			return tr;
		}

		function pager(box) {
			box.textContent = '';
			var pages = Math.max(1, Math.ceil(view.length / PAGE));
			var prev = el('button', null, '\u2039 previous'), next = el('button', null, 'next \u203a');
			prev.disabled = state.page === 0;
			next.disabled = state.page >= pages - 1;
			prev.addEventListener('click', function () { state.page--; draw(); });
			next.addEventListener('click', function () { state.page++; draw(); });
			var a = view.length ? state.page * PAGE + 1 : 0;
			var b = Math.min(view.length, (state.page + 1) * PAGE);
			var info = el('span', 'page-info', 'page ' + (state.page + 1) + ' of ' + pages + ' \u00b7 ' +
				a + '\u2013' + b + ' of ' + view.length + ' shown (' + items.length + ' in the report)');
			box.appendChild(prev);
			box.appendChild(info);
			box.appendChild(next);
		}

		function draw() {
			var ncols = cols.length;
			tbody.textContent = '';
			var from = state.page * PAGE, to = Math.min(view.length, from + PAGE);
			var g = GROUPS[state.group], last = null, frag = document.createDocumentFragment();
			for (var i = from; i < to; i++) {
				var it = view[i];
				if (g && it._g !== last) {
					last = it._g;
					var gr = el('tr', 'group'), gtd = el('td', null,
						g.name + ' ' + last + ' \u2014 ' + groupCount[last] +
						(groupCount[last] === 1 ? ' finding' : ' findings') +
						(i === from && i > 0 && view[i - 1]._g === last ? ' (continued)' : ''));
					gtd.colSpan = ncols;
					gr.appendChild(gtd);
					frag.appendChild(gr);
				}
				frag.appendChild(row(it, ncols));
				if (open[it.i])
					frag.appendChild(details(it, ncols));
			}
			if (from >= to) {
				var er = el('tr'), etd = el('td', 'empty', items.length ? 'No finding matches.' : 'No findings.');
				etd.colSpan = ncols;
				er.appendChild(etd);
				frag.appendChild(er);
			}
			tbody.appendChild(frag);
			pager(pagerTop);
			pager(pagerBottom);
			Object.keys(ths).forEach(function (k) {
				ths[k].className = 'sortable' + (state.sort === k ? (state.dir > 0 ? ' asc' : ' desc') : '');
			});
			root.setAttribute('data-rows', String(to - from));
			root.setAttribute('data-shown', String(view.length));
		}

		function update() {
			state.page = 0;
			compute();
			draw();
		}

		function setSort(k) {
			if (state.sort === k)
				state.dir = -state.dir;
			else {
				state.sort = k;
				state.dir = 1;
			}
			update();
		}

		var timer = null;
		search.addEventListener('input', function () {
			clearTimeout(timer);
			timer = setTimeout(function () {
				state.q = search.value.trim().toLowerCase();
				update();
			}, 150);
		});
		clsSel.addEventListener('change', function () { state.cls = clsSel.value; update(); });
		sevSel.addEventListener('change', function () { state.sev = sevSel.value; update(); });
		chSel.addEventListener('change', function () { state.ch = chSel.value; update(); });
		grpSel.addEventListener('change', function () { state.group = grpSel.value; update(); });

		if (hasNew)
			controls.appendChild(el('span', 'badge new', 'new since the last run'));
		/* #open=3,7: those items start with their details open (links, screenshots). */
		var m = /^#open=([0-9,]+)$/.exec(location.hash);
		if (m)
			m[1].split(',').forEach(function (n) { open[n] = true; });
		update();
	}

	document.addEventListener('DOMContentLoaded', function () {
		root.setAttribute('data-loaded-ms', String(Math.round(performance.now())));
	});
	try {
		main();
		root.setAttribute('data-render-ms', String(Math.round(performance.now())));
		root.setAttribute('data-rendered', '1');
	} catch (e) {
		root.setAttribute('data-error', String(e && e.stack ? e.stack : e));
	}
})();
