// Detection metrics over scores (higher = more anomalous) and 0/1 labels (1 = anomaly). Ties are handled the way
// scikit-learn does, so figures compare with its roc_auc_score and average_precision_score.

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>): { pos: number; neg: number } {
  if (scores.length !== labels.length) {
    throw new Error(`${scores.length} scores but ${labels.length} labels`);
  }
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1) throw new Error(`label ${i} is ${l}; labels must be 0 or 1`);
    if (!Number.isFinite(scores[i]!)) throw new Error(`score ${i} is ${scores[i]}`);
    pos += l;
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) {
    throw new Error(`AUC needs both classes; got ${pos} anomalies and ${neg} normal rows`);
  }
  return { pos, neg };
}

function descendingOrder(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[b]! - scores[a]!);
}

/** ROC AUC = P(score of a random anomaly > score of a random normal row), ties counting one half (Mann–Whitney). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { pos, neg } = checkInputs(scores, labels);
  const order = descendingOrder(scores);
  // Walk groups of equal scores from the top: every normal row in a group is beaten by the anomalies above it
  // and ties with the anomalies in its group.
  let posAbove = 0;
  let wins = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    let gPos = 0;
    let gNeg = 0;
    const s = scores[order[i]!]!;
    while (j < order.length && scores[order[j]!] === s) {
      if (labels[order[j]!] === 1) gPos++;
      else gNeg++;
      j++;
    }
    wins += gNeg * (posAbove + gPos / 2);
    posAbove += gPos;
    i = j;
  }
  return wins / (pos * neg);
}

/** PR AUC as average precision: Σ (R_k − R_{k−1}) P_k over the distinct score thresholds, highest first. */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { pos } = checkInputs(scores, labels);
  const order = descendingOrder(scores);
  let tp = 0;
  let seen = 0;
  let ap = 0;
  let i = 0;
  while (i < order.length) {
    const s = scores[order[i]!]!;
    let gPos = 0;
    let j = i;
    while (j < order.length && scores[order[j]!] === s) {
      gPos += labels[order[j]!]!;
      j++;
    }
    seen += j - i;
    tp += gPos;
    if (gPos > 0) ap += (gPos / pos) * (tp / seen);
    i = j;
  }
  return ap;
}
