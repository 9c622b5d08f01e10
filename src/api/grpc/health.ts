import {
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { GAFFER_SERVICE, HEALTH_SERVICE } from './definition.ts';
import type { HealthCheckRequest, HealthCheckResponse, ServingStatus } from './types.ts';

/** '' is the server as a whole (grpc.health.v1's convention). */
const KNOWN = new Set(['', GAFFER_SERVICE, HEALTH_SERVICE]);

/**
 * grpc.health.v1.Health (proto/grpc/health/v1/health.proto): SERVING while the server runs,
 * NOT_SERVING once it is closing. Public: probes (Kubernetes' gRPC probe, load balancers) carry no
 * key. Hand-written rather than the `grpc-health-check` package: two methods over one flag, and
 * one dependency less.
 */
export function healthService(): {
  implementation: UntypedServiceImplementation;
  /** Tells every watcher NOT_SERVING and ends their streams. */
  shutdown(): void;
} {
  let serving: ServingStatus = 'SERVING';
  const watchers = new Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();
  const statusOf = (service: string): ServingStatus =>
    KNOWN.has(service) ? serving : 'SERVICE_UNKNOWN';

  const check: handleUnaryCall<HealthCheckRequest, HealthCheckResponse> = (call, callback) => {
    const service = call.request.service ?? '';
    if (!KNOWN.has(service)) {
      callback({ code: status.NOT_FOUND, details: `unknown service ${service}` });
      return;
    }
    callback(null, { status: statusOf(service) });
  };

  const watch: handleServerStreamingCall<HealthCheckRequest, HealthCheckResponse> = (call) => {
    if (serving !== 'SERVING') {
      call.write({ status: statusOf(call.request.service ?? '') });
      call.end();
      return;
    }
    watchers.add(call);
    call.on('cancelled', () => watchers.delete(call));
    call.write({ status: statusOf(call.request.service ?? '') });
  };

  return {
    implementation: { Check: check, Watch: watch },
    shutdown() {
      serving = 'NOT_SERVING';
      for (const call of watchers) {
        call.write({ status: statusOf(call.request.service ?? '') });
        call.end();
      }
      watchers.clear();
    },
  };
}
