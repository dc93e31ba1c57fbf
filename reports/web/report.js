// Draws the charts of an `incept report --format html` page. Compiled into the incept binary and inlined after
// Chart.js; reads the report (the same document as `--format json`) from the page's #report-data element.
// Text from the report only ever reaches the page through Chart.js (canvas) or textContent, never as HTML.
// When done it sets document.body.dataset.chartsDrawn to the number of charts created, which the tests read
// back from a headless browser, and records any failure in data-chart-errors.
(function () {
  'use strict';

  if (typeof Chart === 'undefined') {
    document.body.dataset.chartsDrawn = '0';
    document.body.dataset.chartErrors = 'Chart.js did not load';
    return;
  }
  const report = JSON.parse(document.getElementById('report-data').textContent);
  const variants = report.variants;

  // Colour-blind-friendly (Okabe-Ito), one per variant, the same in every chart.
  const palette = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
  const colorOf = (index) => palette[index % palette.length];
  const percent = (fraction) => (fraction === null || fraction === undefined ? null : fraction * 100);
  const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 2 });

  // A static page: draw at once rather than animate (also keeps headless rendering deterministic).
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  // Extreme points (the best variant, the last epoch) sit on the axis limits; keep them whole.
  Chart.defaults.layout.padding = 12;
  Chart.defaults.datasets.line.clip = false;
  Chart.defaults.datasets.scatter.clip = false;

  // Costs of Inception variants can span orders of magnitude; a log axis keeps the cheap ones readable.
  function costAxis(values, title) {
    const positive = values.filter((v) => v > 0);
    const spread = positive.length ? Math.max(...positive) / Math.min(...positive) : 1;
    return {
      type: spread > 20 ? 'logarithmic' : 'linear',
      title: { display: true, text: title },
      ticks: { callback: (value) => compact.format(value) },
    };
  }

  function accuracyText(point) {
    if (point.n < 2) return `${point.y.toFixed(2)}% (n=${point.n})`;
    return `${point.y.toFixed(2)}% ± ${point.std.toFixed(2)} (n=${point.n}, ${point.min.toFixed(2)}–${point.max.toFixed(2)})`;
  }

  // Accuracy (mean over seeds) against a cost: one dataset per variant (so the legend names the colours), the
  // Pareto front drawn larger and joined by a dashed line.
  function accuracyVsCost(canvas, costKey, frontKey, costTitle) {
    const points = [];
    variants.forEach((v, index) => {
      if (v.test_acc.n === 0) return;
      points.push({
        x: v[costKey], y: percent(v.test_acc.mean), std: percent(v.test_acc.std), n: v.test_acc.n,
        min: percent(v.test_acc.min), max: percent(v.test_acc.max),
        variant: v.label, color: colorOf(index), front: v[frontKey],
      });
    });
    if (points.length === 0) return null;
    const datasets = points.map((p) => ({
      label: p.variant,
      data: [p],
      backgroundColor: p.color,
      borderColor: p.color,
      pointRadius: p.front ? 8 : 5,
      pointHoverRadius: p.front ? 10 : 7,
      pointStyle: p.front ? 'rectRot' : 'circle',
    }));
    datasets.push({
      label: 'Pareto front',
      data: points.filter((p) => p.front).sort((a, b) => a.x - b.x),
      showLine: true,
      borderColor: '#555555',
      backgroundColor: '#555555',
      borderDash: [6, 4],
      pointRadius: 0,
      pointHitRadius: 0,
    });
    const frontIndex = datasets.length - 1;
    return new Chart(canvas, {
      type: 'scatter',
      data: { datasets },
      options: {
        scales: {
          x: costAxis(points.map((p) => p.x), costTitle),
          y: { grace: '5%', title: { display: true, text: 'test accuracy %' } },
        },
        plugins: {
          tooltip: {
            filter: (item) => item.datasetIndex !== frontIndex,
            callbacks: {
              label: (item) => `${item.raw.variant}: ${accuracyText(item.raw)}, ${compact.format(item.raw.x)} ${costTitle}`,
            },
          },
        },
      },
    });
  }

  // A colour with some transparency, for the band behind a line.
  function translucent(hex, alpha) {
    const value = parseInt(hex.slice(1), 16);
    return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
  }

  // Test accuracy per epoch: the mean over the seeds of each variant as a line, and behind it a band from the
  // lowest to the highest seed, so a gap between two curves can be told from seed noise. One seed has no band.
  function learningCurves(canvas) {
    const datasets = [];
    variants.forEach((v, index) => {
      if (v.curve.length === 0) return;
      const color = colorOf(index);
      datasets.push({
        label: v.label,
        data: v.curve.map((p) => ({
          x: p.epoch, y: percent(p.test_acc), n: p.n, std: percent(p.std), min: percent(p.min), max: percent(p.max),
        })),
        borderColor: color,
        backgroundColor: color,
      });
      const spread = v.curve.filter((p) => p.n >= 2);
      if (spread.length === 0) return;
      const band = { band: true, pointRadius: 0, pointHitRadius: 0, borderWidth: 0, borderColor: color };
      datasets.push({ ...band, label: `${v.label} (highest seed)`, data: spread.map((p) => ({ x: p.epoch, y: percent(p.max) })) });
      datasets.push({
        ...band,
        label: `${v.label} (lowest seed)`,
        data: spread.map((p) => ({ x: p.epoch, y: percent(p.min) })),
        fill: '-1',
        backgroundColor: translucent(color, 0.18),
      });
    });
    if (datasets.length === 0) return null;
    return new Chart(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        scales: {
          x: { type: 'linear', title: { display: true, text: 'epoch' }, ticks: { stepSize: 1 } },
          y: { title: { display: true, text: 'test accuracy %' } },
        },
        plugins: {
          legend: { labels: { filter: (item, data) => !data.datasets[item.datasetIndex].band } },
          tooltip: {
            filter: (item) => !item.dataset.band,
            callbacks: {
              label: (item) => `${item.dataset.label}: ${accuracyText(item.raw)} at epoch ${item.raw.x}`,
            },
          },
        },
      },
    });
  }

  // Layer names in order of first appearance, the baseline's first, so bars line up across variants.
  function layerNames() {
    const ordered = [variants.find((v) => v.baseline), ...variants.filter((v) => !v.baseline)];
    const names = [];
    for (const v of ordered) for (const layer of v.layers) if (!names.includes(layer.name)) names.push(layer.name);
    return names;
  }

  // One bar per layer and variant: where a variant spends its parameters or its multiply-accumulates.
  function layerCosts(canvas, costKey, costTitle) {
    const names = layerNames();
    const datasets = [];
    variants.forEach((v, index) => {
      if (v.layers.length === 0) return;
      const byName = new Map(v.layers.map((layer) => [layer.name, layer]));
      datasets.push({
        label: v.label,
        data: names.map((name) => (byName.has(name) ? byName.get(name)[costKey] : null)),
        blocks: names.map((name) => (byName.has(name) ? byName.get(name).block : '')),
        backgroundColor: colorOf(index),
      });
    });
    if (datasets.length === 0) return null;
    return new Chart(canvas, {
      type: 'bar',
      data: { labels: names, datasets },
      options: {
        scales: {
          x: { title: { display: true, text: 'layer' } },
          y: { title: { display: true, text: costTitle }, ticks: { callback: (value) => compact.format(value) } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => {
                const block = item.dataset.blocks[item.dataIndex];
                return `${item.dataset.label}: ${item.raw.toLocaleString('en')} ${costTitle} (${block})`;
              },
            },
          },
        },
      },
    });
  }

  const charts = [
    ['chart-accuracy-params', (c) => accuracyVsCost(c, 'params', 'pareto_params', 'params')],
    ['chart-accuracy-macs', (c) => accuracyVsCost(c, 'macs', 'pareto_macs', 'MACs')],
    ['chart-learning-curves', (c) => learningCurves(c)],
    ['chart-layer-params', (c) => layerCosts(c, 'params', 'params')],
    ['chart-layer-macs', (c) => layerCosts(c, 'macs', 'MACs')],
  ];

  let drawn = 0;
  const errors = [];
  for (const [id, draw] of charts) {
    const canvas = document.getElementById(id);
    try {
      if (draw(canvas)) {
        drawn += 1;
      } else {
        const note = document.createElement('p');
        note.className = 'empty';
        note.textContent = 'no data yet (no completed run or no recorded epochs/layers)';
        canvas.parentElement.replaceWith(note);
      }
    } catch (error) {
      errors.push(`${id}: ${error}`);
    }
  }
  document.body.dataset.chartsDrawn = String(drawn);
  if (errors.length) {
    document.body.dataset.chartErrors = errors.join('; ');
    const message = document.createElement('p');
    message.className = 'error';
    message.textContent = `Some charts could not be drawn: ${errors.join('; ')}`;
    document.getElementById('charts').prepend(message);
  }
})();
