// The simulator's PRNG lives with the models (training shuffles use it too); re-exported here for sim users.
export { Rng } from '../models/positioning/prng.js';
