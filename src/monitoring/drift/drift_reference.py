"""Expected values for src/monitoring/drift/*.test.ts, computed with SciPy/NumPy.

Run outside the repo with a Python that has numpy + scipy (tested: scipy 1.17.1,
numpy 2.4.6):  python3 src/monitoring/drift/drift_reference.py
It prints SAMPLES and EXPECTED (pasted into stats.test.ts) and, last,
REPORT_EXPECTED (pasted into report.test.ts). The
Evidently formulas (z-test, normed Wasserstein, feel_zeroes, PSI, Hellinger) are
written out here from Evidently's source, on top of the SciPy calls.
"""
import json
import numpy as np
import scipy.stats as st
import scipy.special as sc
from scipy.spatial import distance

def park_miller(n, seed, shift=0.0):
    # Same generator as parkMiller() in the test: x <- 16807 x mod (2^31 - 1).
    x, out = seed, []
    for _ in range(n):
        x = (x * 16807) % 2147483647
        out.append(shift + x / 2147483647)
    return np.array(out)

S = {
    'a': [0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, -0.24],
    'b': [1.21, 0.84, 0.33, 1.95, 0.48, 1.37, 0.02, 1.12, 2.41, 0.77, -0.31, 1.58, 0.9, 1.03, 0.66],
    'c': [0.12, -0.44, 0.93, 1.35, -0.07, 0.58, 2.02, 0.81, -0.29, 1.18, 0.46, 1.66, 0.25, 0.71, -0.93, 1.49, 0.35, 0.99, 0.05, 1.27],
    'tiesA': [1, 2, 2, 3, 3, 3, 4, 4, 5, 1, 2, 3, 3, 4, 2, 3],
    'tiesB': [2, 3, 3, 4, 4, 4, 5, 5, 5, 3, 4, 4, 2, 5, 3, 4, 4, 5, 3, 4, 1, 4],
    'refCounts3': [30, 50, 20], 'curCounts3': [20, 60, 40],
    'refCounts2': [30, 70], 'curCounts2': [45, 55],
}
a, b, c = (np.array(S[k]) for k in 'abc')
E = {}
def f(x): return float(x)

# --- KS, exact path
for name, (x, y) in {'ks_ab': (a, b), 'ks_ac_equal_n': (a, c), 'ks_ties': (np.array(S['tiesA'], float), np.array(S['tiesB'], float))}.items():
    r = st.ks_2samp(x, y)
    E[name] = [f(r.statistic), f(r.pvalue)]
# --- KS at SciPy's boundary: max(n1, n2) == 10000 is still exact
r = st.ks_2samp(park_miller(10000, 1), park_miller(9999, 7, 0.01))
E['ks_exact_10000'] = [f(r.statistic), f(r.pvalue)]
# --- KS, asymptotic path (max(n1, n2) > 10000): park_miller samples
E['ks_asymp'] = []
for n1, n2, shift in [(10001, 300, 0.02), (10001, 120, 0.1), (10001, 60, 0.05), (12000, 11000, 0.01), (20000, 15000, 0.03), (10001, 50, 0.4)]:
    r = st.ks_2samp(park_miller(n1, 1), park_miller(n2, 7, shift))
    E['ks_asymp'].append([n1, n2, shift, f(r.statistic), f(r.pvalue)])
# --- kstwo.sf(x, n) across SciPy's branches (Ruben-Gambino, Durbin, Pomeranz, Pelz-Good, 2*smirnov, n > 1e6)
E['kstwo'] = [[x, n, f(st.kstwo.sf(x, n))] for x, n in [
    (0.008, 100), (0.004, 200), (0.985, 50), (0.6, 50), (0.1, 60), (0.15, 60), (0.08, 120), (0.3, 60),
    (0.3, 10), (0.2, 30), (0.25, 20), (0.35, 30), (0.11, 100), (0.45, 12), (0.17, 139),
    (0.03, 200), (0.02, 5000), (0.01, 5000), (0.001, 100000), (0.05, 5000), (0.006, 100000), (0.002, 2000000)]]
# --- special functions
E['gammaincc'] = [[p, x, f(sc.gammaincc(p, x))] for p, x in [(0.5, 0.3), (2.5, 7.1), (10, 3), (50, 80), (0.5, 30), (1000, 1100), (3, 0.01)]]
E['chi2_sf'] = [[x, k, f(st.chi2.sf(x, k))] for x, k in [(3.84, 1), (10.5, 4), (0.2, 2), (150, 100), (40, 3)]]
E['norm_cdf'] = [[x, f(st.norm.cdf(x))] for x in [-3.5, -1.2, -0.3, 0.0, 0.4, 1.0, 2.2, 5.0]]
# --- chi-square, Evidently's goodness-of-fit form
def chisq_gof(ref, cur):
    ref, cur = np.array(ref, float), np.array(cur, float)
    r = st.chisquare(cur, ref * cur.sum() / ref.sum())
    return [f(r.statistic), f(r.pvalue)]
E['chisq_gof3'] = chisq_gof(S['refCounts3'], S['curCounts3'])
E['chisq_gof2'] = chisq_gof(S['refCounts2'], S['curCounts2'])
# --- chi2_contingency: 3 categories (dof 2, no Yates), 2 categories (dof 1, Yates), 2 categories without correction
for name, (ref, cur, corr) in {'contingency3': (S['refCounts3'], S['curCounts3'], True), 'contingency2_yates': (S['refCounts2'], S['curCounts2'], True), 'contingency2_plain': (S['refCounts2'], S['curCounts2'], False)}.items():
    r = st.chi2_contingency([ref, cur], correction=corr)
    E[name] = [f(r.statistic), f(r.pvalue), int(r.dof)]
# --- Evidently z_stat_test (proportions_diff_z_stat_ind + proportions_diff_z_test), ref a:30 b:70, cur a:45 b:55
def z_evidently(ref, cur):
    n1, n2 = len(ref), len(cur)
    p1, p2 = float(sum(ref)) / n1, float(sum(cur)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return [f(z), f(2 * (1 - st.norm.cdf(np.abs(z))))]
E['z'] = z_evidently([0] * 30 + [1] * 70, [0] * 45 + [1] * 55)
E['z_far'] = z_evidently([0] * 90 + [1] * 10, [0] * 20 + [1] * 80)
# --- Wasserstein and Evidently's normed version
E['wasserstein_ab'] = f(st.wasserstein_distance(a, b))
E['wasserstein_ties'] = f(st.wasserstein_distance(S['tiesA'], S['tiesB']))
E['wasserstein_norm_ab'] = f(st.wasserstein_distance(a, b) / max(np.std(a), 0.001))
E['wasserstein_norm_const'] = f(st.wasserstein_distance([2.0] * 5, [2.0, 2.5, 3.0]) / max(np.std([2.0] * 5), 0.001))
# --- shares on categories, Jensen-Shannon / KL / PSI / Hellinger
p = np.array(S['refCounts3']) / 100; q = np.array(S['curCounts3']) / 120
E['js_e'] = f(distance.jensenshannon(p, q)); E['js_2'] = f(distance.jensenshannon(p, q, 2))
E['js_zero_bin'] = f(distance.jensenshannon([0.5, 0.5, 0.0], [0.2, 0.3, 0.5], 2))
def feel_zeroes(x):
    x = np.array(x, float)
    m = min(x[x != 0])
    np.place(x, x == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return x
E['feel_zeroes'] = [list(map(f, feel_zeroes([0.0, 0.25, 0.75]))), list(map(f, feel_zeroes([0.0, 0.00005, 0.99995])))]
def psi(r, c): return f(sum((r - c) * np.log(r / c)))
def hellinger(r, c): return f(np.sqrt(1 - np.clip(np.sum(np.sqrt(r * c)), 0, 1)))
E['psi_cat'] = psi(feel_zeroes(p), feel_zeroes(q))
E['kl_cat'] = f(st.entropy(feel_zeroes(p), feel_zeroes(q)))
E['hellinger_cat'] = hellinger(p, q)
# numeric, 10 reference-quantile bins
edges = np.unique(np.quantile(a, np.arange(1, 10) / 10))
rq = np.bincount(np.searchsorted(edges, a, side='right'), minlength=len(edges) + 1) / len(a)
cq = np.bincount(np.searchsorted(edges, b, side='right'), minlength=len(edges) + 1) / len(b)
E['quantile_edges_a'] = list(map(f, edges))
E['psi_quantile_ab'] = psi(feel_zeroes(rq), feel_zeroes(cq))
E['kl_quantile_ab'] = f(st.entropy(feel_zeroes(rq), feel_zeroes(cq)))
E['js_quantile_ab'] = f(distance.jensenshannon(rq, cq, 2))
E['hellinger_quantile_ab'] = hellinger(rq, cq)
# numeric, Evidently Sturges bins (a has > 20 distinct? no: 20 -> use park_miller 40 for > 20)
ra = park_miller(40, 3); cb = park_miller(30, 11, 0.15)
bins = np.histogram_bin_edges(np.concatenate([ra, cb]), bins='sturges')
rs = np.histogram(ra, bins)[0] / len(ra); cs = np.histogram(cb, bins)[0] / len(cb)
E['sturges_edges'] = list(map(f, bins))
E['psi_sturges'] = psi(feel_zeroes(rs), feel_zeroes(cs))
E['js_sturges'] = f(distance.jensenshannon(rs, cs, 2))
E['kl_sturges'] = f(st.entropy(feel_zeroes(rs), feel_zeroes(cs)))
E['hellinger_sturges'] = hellinger(rs, cs)
# Sturges rule with <= 20 distinct reference values: one bin per distinct value (ties samples)
tA, tB = np.array(S['tiesA'], float), np.array(S['tiesB'], float)
keys = sorted(set(tA) | set(tB))
rt = np.array([np.sum(tA == k) for k in keys]) / len(tA); ct = np.array([np.sum(tB == k) for k in keys]) / len(tB)
E['js_distinct_ties'] = f(distance.jensenshannon(rt, ct, 2))
print('const SAMPLES = ' + json.dumps(S) + ' as const;')
print('const EXPECTED = ' + json.dumps(E) + ' as const;')

# --- report.test.ts: values driftReport must reproduce through method selection
R = {}
ref_w, cur_w = park_miller(1500, 5), park_miller(800, 9, 0.05)
R['wasserstein_norm_1500_800'] = f(st.wasserstein_distance(ref_w, cur_w) / max(np.std(ref_w), 0.001))
R['ks_ab'] = E['ks_ab']; R['chisq_gof3'] = E['chisq_gof3']; R['z'] = E['z']; R['psi_quantile_ab'] = E['psi_quantile_ab']
pr = np.array([600, 300, 200]) / 1100; pc = np.array([100, 100, 50, 10]) / 260
pr = np.append(pr, 0.0)
R['js_cat_1100'] = f(distance.jensenshannon(pr, pc))  # natural log, as Evidently (base=None)
R['js2_cat_1100'] = f(distance.jensenshannon(pr, pc, 2))
print('const REPORT_EXPECTED = ' + json.dumps(R) + ' as const;')
