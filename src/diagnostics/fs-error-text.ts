// A file-system error in the words a diagnostic uses, its errno code kept for searching. Node's own message names
// the syscall and a path, which may be a temporary file tdc made rather than the one the user named.

const WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ENOENT: 'the directory does not exist',
  ENAMETOOLONG: 'the file name is too long',
  EIO: 'input/output error',
  ELOOP: 'a loop of symbolic links',
};

export function fsErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && WORDS[code]) return `${WORDS[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
}

/** fsErrorText for an error reading a file the user named: there ENOENT means that file is missing. */
export function fsReadErrorText(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'no such file (ENOENT)' : fsErrorText(e);
}
