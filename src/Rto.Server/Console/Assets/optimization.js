// Optimization: every session with its state, progress and best objective; a row opens the session.
'use strict';
(() => {
  const { el, fmt, fmtDateTime, fillTable, badge } = Rto;
  Rto.stream('/api/optimization/stream', data => {
    document.getElementById('sessions-summary').textContent = data.total === 0
      ? 'No sessions yet: start one with the optimization client (StartOptimizeSession).'
      : `${data.total} session${data.total === 1 ? '' : 's'}${data.total > data.sessions.length ? `, the newest ${data.sessions.length} shown` : ''}`;
    fillTable('sessions', data.sessions.map(s => [
      el('a', { href: `/ui/optimization/${s.id}`, class: 'mono' }, s.id.slice(0, 8)),
      fmtDateTime(s.created), s.method, s.model || '–', badge(s.state),
      el('span', null, el('span', { class: 'progress' }, el('span', { style: `width:${Math.min(100, 100 * s.evaluations / s.maxEvaluations)}%` })), `${s.evaluations} / ${s.maxEvaluations}`),
      { text: s.best ? fmt(s.best.objective) : '–', class: 'num' },
      s.best ? badge(s.best.feasible ? 'feasible' : 'infeasible') : '–',
    ]), 'no sessions');
  });
})();
