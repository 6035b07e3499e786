export { ProviderError, type Provider, type ProviderInstance } from './provider.js';
export { SpotFleetProvider, spotFleetFromConfig, type SpotFleetOptions } from './providers/spot-fleet.js';
export { spotFleetConfig, spotFleetSettings, type SpotFleetConfig } from './providers/spot-fleet-config.js';
