import { refuseBadName } from '../../protocol/names.js';
import { coreHandler } from '../core-services.js';

/**
 * A download: the answer carries size and SHA-256, and the file as its body. A client holding
 * the first `offset` bytes of the version whose SHA-256 it names gets only the rest; if the file
 * has changed since, it gets all of it (`offset: 0` in the answer).
 */
export const get = coreHandler({
  params: { name: 'string', offset: 'uint?', sha256: 'sha256?' },
  async run(ctx, request) {
    const name = request.name;
    refuseBadName(name);
    const files = ctx.server.files;
    let start = request.offset ?? 0;
    let { file, stream } = await files.read(name, start);
    if (start > 0 && (file.sha256 !== request.sha256 || start > file.size)) {
      // The client holds part of another version: it gets the whole of this one.
      stream.destroy();
      start = 0;
      ({ file, stream } = await files.read(name));
    }
    try {
      await ctx.replyWithBody({ ...file, offset: start }, file.size - start, stream);
    } finally {
      stream.destroy();
    }
  },
});
