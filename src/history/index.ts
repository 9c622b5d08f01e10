export { HistorySampler, emptyWorkers } from './sampler.ts';
export { readHistoryState } from './state.ts';
export type { ReadState, Sample, TypeSample, WorkerCounts } from './sampler.ts';
export { Ring } from './ring.ts';
