import { ConvnodeError } from '../errors.js';

/** An image could not be read or decoded. `source` names the file (or the buffer) it came from. */
export class ImageError extends ConvnodeError {
  readonly source: string;
  constructor(source: string, message: string) {
    super('ERR_CONVNODE_IMAGE', `image ${source}: ${message}`);
    this.source = source;
  }
}
