"""scikit-learn's IsolationForest on the ODDS sets, for bench/anomaly.ts (same run, same machine, same load).

usage: python3 bench/anomaly-sklearn.py DIR SEEDS SET [SET ...]
One JSON object per set on stdout: {"set", "aucs": [per seed], "fitMs", "scoreMs", "cpuMs"} — times are the mean over
seeds 0-4 of wall-clock fit and score_samples, and of their process CPU time. Run with the Debian package
(apt-get install python3-sklearn; /usr/bin/python3).
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

directory, seeds, sets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for name in sets:
    data = np.loadtxt(f"{directory}/{name}.csv", delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1]
    IsolationForest(n_estimators=100, max_samples=256, random_state=99).fit(x).score_samples(x)  # warm-up
    aucs, fit, score, cpu = [], [], [], []
    for seed in range(seeds):
        c0, t0 = time.process_time(), time.perf_counter()
        forest = IsolationForest(n_estimators=100, max_samples=256, random_state=seed).fit(x)
        t1 = time.perf_counter()
        s = -forest.score_samples(x)
        t2, c2 = time.perf_counter(), time.process_time()
        aucs.append(roc_auc_score(y, s))
        if seed < 5:
            fit.append((t1 - t0) * 1000)
            score.append((t2 - t1) * 1000)
            cpu.append((c2 - c0) * 1000)
    print(json.dumps({"set": name, "version": sklearn.__version__, "aucs": aucs, "fitMs": float(np.mean(fit)),
                      "scoreMs": float(np.mean(score)), "cpuMs": float(np.mean(cpu))}), flush=True)
