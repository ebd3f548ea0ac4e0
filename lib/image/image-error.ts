import { ConvnodeError } from '../errors.js';

/** An image could not be read or decoded. `source` names the file (or the buffer) it came from. */
export class ImageError extends ConvnodeError {
  readonly source: string;
  /** The decoder's own words, when the decoder failed (e.g. sharp's 'Input image exceeds pixel limit'). */
  readonly reason?: string;
  constructor(source: string, message: string, reason?: string) {
    super('ERR_CONVNODE_IMAGE', `image ${source}: ${message}`);
    this.source = source;
    if (reason !== undefined) this.reason = reason;
  }
}
