/** The S3 backend's numbers that the serve options check, without loading the backend. */

/** The smallest part of a multipart upload S3 accepts (but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Bytes per part unless `--s3-part-size` says otherwise. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
