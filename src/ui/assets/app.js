// @ts-nocheck — a browser script served as is (DOM globals, no build step); the browser tests exercise it.
// Hourbridge finance pages: locale formatting, charts, live updates (Server-Sent Events),
// operator actions with the CSRF token, and lazily loaded explain traces. Loaded as a file
// (the Content-Security-Policy allows no inline script); the pages work without it, minus
// live updates and charts.
(() => {
  const locale = navigator.language || 'en';
  const charts = [];

  function formatNumbers(root) {
    for (const el of root.querySelectorAll('.money[data-net]')) {
      try {
        const fmt = new Intl.NumberFormat(locale, { style: 'currency', currency: el.dataset.currency, minimumFractionDigits: 2 });
        el.textContent = fmt.format(Number(el.dataset.net));
      } catch {
        // an unknown currency code keeps the server's "EUR 12.00"
      }
    }
    for (const el of root.querySelectorAll('time[datetime]')) {
      const v = el.getAttribute('datetime');
      if ('date' in el.dataset || /^\d{4}-\d{2}-\d{2}$/.test(v)) {
        const [y, m, d] = v.split('-').map(Number);
        el.textContent = new Date(y, m - 1, d).toLocaleDateString(locale, { dateStyle: 'medium' });
      } else {
        const t = new Date(v);
        if (!Number.isNaN(t.getTime())) el.textContent = t.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
      }
    }
  }

  function drawCharts(root) {
    while (charts.length) charts.pop().destroy();
    const data = root.querySelector('#chart-data');
    if (!data || !window.Chart) return;
    const chart = JSON.parse(data.textContent);
    for (const canvas of root.querySelectorAll('canvas[data-series]')) {
      const s = chart.series[Number(canvas.dataset.series)];
      if (!s) continue;
      charts.push(
        new window.Chart(canvas, {
          type: 'bar',
          data: {
            labels: s.points.map((p) => p.label),
            datasets: [
              { label: 'Billed', data: s.points.map((p) => Number(p.billed)), backgroundColor: '#1f5fa8' },
              { label: 'Outstanding', data: s.points.map((p) => Number(p.outstanding)), backgroundColor: '#c46a00' },
            ],
          },
          options: {
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            scales: {
              y: {
                ticks: {
                  callback: (v) =>
                    new Intl.NumberFormat(locale, { style: 'currency', currency: s.currency, maximumFractionDigits: 0 }).format(v),
                },
              },
            },
          },
        }),
      );
    }
  }

  function csrf() {
    return document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  }

  function bindActions(root) {
    for (const form of root.querySelectorAll('form[data-action]')) {
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const out = form.querySelector('.result');
        const button = form.querySelector('button');
        button.disabled = true;
        if (out) out.textContent = 'working…';
        try {
          const res = await fetch(form.action, {
            method: 'POST',
            headers: { 'X-CSRF-Token': csrf(), Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(new FormData(form)),
            credentials: 'same-origin',
          });
          const body = await res.json().catch(() => ({}));
          if (out) {
            out.textContent = res.ok
              ? body.runId
                ? `${body.created ? 'started' : 'already running'}: ${body.runId}`
                : body.connectors
                  ? body.connectors.map((c) => `${c.id}: ${c.ok ? 'ok' : c.message}`).join('; ')
                  : 'done'
              : `refused (${res.status}): ${body.message ?? ''}`;
          }
        } catch (err) {
          if (out) out.textContent = `failed: ${err.message}`;
        } finally {
          button.disabled = false;
        }
      });
    }
  }

  function bindExplain(root) {
    for (const d of root.querySelectorAll('details[data-explain]')) {
      d.addEventListener('toggle', async () => {
        if (!d.open || d.dataset.loaded) return;
        const pre = d.querySelector('pre');
        const res = await fetch(d.dataset.explain, { credentials: 'same-origin' });
        pre.textContent = await res.text();
        d.dataset.loaded = '1';
      });
    }
  }

  function init(root) {
    formatNumbers(root);
    drawCharts(root);
    bindActions(root);
    bindExplain(root);
  }

  // Live: a run started or finished somewhere; fetch this page again and swap its content in place.
  let refreshing = false;
  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    try {
      const res = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!res.ok || res.redirected) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.querySelector('main');
      const main = document.querySelector('main');
      if (!fresh || !main) return;
      // What the reader had open, and the answers to their actions, survive the swap.
      const open = new Set([...main.querySelectorAll('details[open] > summary')].map((s) => s.textContent));
      const results = new Map(
        [...main.querySelectorAll('form[data-action]')].map((f) => [
          f.action + new URLSearchParams(new FormData(f)).toString(),
          f.querySelector('.result')?.textContent ?? '',
        ]),
      );
      main.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
      for (const s of main.querySelectorAll('details > summary')) if (open.has(s.textContent)) s.parentElement.open = true;
      for (const f of main.querySelectorAll('form[data-action]')) {
        const text = results.get(f.action + new URLSearchParams(new FormData(f)).toString());
        const out = f.querySelector('.result');
        if (text && out) out.textContent = text;
      }
      init(main);
      const live = document.getElementById('live');
      const at = new Date();
      document.body.dataset.updatedAt = String(at.getTime());
      if (live) live.textContent = `updated ${at.toLocaleTimeString(locale)}`;
    } finally {
      refreshing = false;
    }
  }

  function listen() {
    if (!window.EventSource) return;
    const live = document.getElementById('live');
    const source = new EventSource('/ui/events');
    source.addEventListener('open', () => {
      document.body.dataset.live = 'open';
      if (live) live.classList.add('on');
    });
    source.addEventListener('error', () => {
      if (live) live.classList.remove('on');
    });
    source.addEventListener('runs', () => void refresh());
  }

  document.addEventListener('DOMContentLoaded', () => {
    init(document);
    listen();
  });
})();
