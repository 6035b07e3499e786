export { ProviderError, type Provider, type ProviderInstance } from './provider.js';
