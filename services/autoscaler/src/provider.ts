/** One pool of hosts the autoscaler grows and shrinks: the local machine's agent processes, a Spot Fleet, … */
export interface Provider {
  /** 'local', 'spot-fleet': the label of its metrics and events. */
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Labels every host of this provider carries: a ready task whose constraints these satisfy counts toward it. */
  readonly labels: Record<string, string>;
  /** Task slots each of its hosts offers (its agents' HOST_SLOTS); without it, the most its joined hosts announce. */
  readonly slotsPerHost?: number;
  /** The provider's view now. An instance maps to a Tangerine host by the host's label `instanceId`. */
  describe(): Promise<{ target: number; instances: ProviderInstance[] }>;
  /** The capacity wanted. A lower target terminates nothing by itself (Spot Fleet: ExcessCapacityTerminationPolicy=noTermination). */
  setTarget(target: number): Promise<void>;
  /** Terminates these instances by id: hosts already drained and checked empty. */
  terminate(instanceIds: string[]): Promise<void>;
}
export interface ProviderInstance { instanceId: string; state: 'pending' | 'running' | 'shutting-down' | 'terminated'; launchedAt?: Date }
/** A provider's failure, with the provider's own code (an AWS error code such as RequestLimitExceeded). Never carries keys. */
export class ProviderError extends Error { constructor(readonly code: string, message: string, readonly retryable: boolean) { super(message); this.name = 'ProviderError'; } }
