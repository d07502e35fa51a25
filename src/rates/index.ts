export { ratesConfigSchema, type RatesConfig } from './config.schema';
export { compileRates, RateEngine } from './rate.engine';
export { formatExplain, invoicedSentence, type EntryState, type Placement } from './explain';
export type { CompiledRates, CompileResult, PricingInput, PricingOutcome, PricingClient, QuantityRounding } from './contract';
export { checkRatesConfig } from './check';
