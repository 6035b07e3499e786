export { ProviderError, type Provider, type ProviderInstance } from './provider.js';
export { start } from './service.js';
export { config, PROVIDER_KINDS, type AutoscalerConfig, type ProviderKind } from './config.js';
export { decide, type DecisionInput, type DecisionSettings, type HostInput, type ProviderDecision, type ProviderState } from './decide.js';
export { groupReady, unplaced, satisfies, INSTANCE_LABEL, type ReadyGroup } from './demand.js';
export { LocalProvider, type LocalOptions } from './providers/local.js';
export { SpotFleetProvider, spotFleetFromConfig, type SpotFleetOptions } from './providers/spot-fleet.js';
export { spotFleetConfig, spotFleetSettings, type SpotFleetConfig } from './providers/spot-fleet-config.js';
