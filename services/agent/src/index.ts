export { start } from './service.js';
export { config } from './config.js';
export { DockerExecutor, LABELS, containerName } from './docker-executor.js';
export { ProcessExecutor } from './process-executor.js';
export { TailBuffer, demux } from './tail.js';
export { Ec2Metadata, MetadataError, parseNotice, type SpotNotice } from './ec2-metadata.js';
