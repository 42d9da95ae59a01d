// What `rally` needs from Node: the report and configuration files, the attachments a
// report names (only inside the allowed folders, never through a symbolic link leading
// out), and the state file (JSON, written atomically: a temporary file, fsync, rename).
import { closeSync, constants, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const pathOf = (p) => (p instanceof URL ? fileURLToPath(p) : String(p));

function realOrNull(path) {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** A JSON file of keys and values; each `set` replaces the file atomically. */
export function openState(file) {
  const path = resolve(pathOf(file));
  let values = {};
  try {
    values = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  return {
    get: (key) => values[key] ?? null,
    set: (key, value) => {
      values = { ...values, [key]: value };
      const temporary = `${path}.${process.pid}.tmp`;
      const fd = openSync(temporary, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(values));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, path);
    },
  };
}

/** A configuration file: JSON (TOML needs a parser; pass the object it gives). */
export function loadConfig(file) {
  const path = pathOf(file);
  if (!path.endsWith('.json')) {
    throw new TypeError(`${path}: give the configuration as an object or a .json file (for TOML, parse it with a TOML package first)`);
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The report at `file` (a JUnit file or an allure-results folder), parsed, and its folder. */
export function readReport(file, parseJunit, parseAllure) {
  if (pathOf(file).trimStart().startsWith('<')) throw new TypeError('report: pass XML text as a Uint8Array, not a string');
  const path = resolve(pathOf(file));
  if (statSync(path).isDirectory()) return { parsed: parseAllure(path), folder: path };
  return { parsed: parseJunit(readFileSync(path)), folder: dirname(path) };
}

/** The regular files of an allure-results folder the core may read (it takes the ones it knows). */
export function allureFiles(folder) {
  const path = resolve(pathOf(folder));
  return readdirSync(path, { withFileTypes: true })
    // The entry's own type: a symbolic link is not followed out of the folder.
    .filter((entry) => entry.isFile() && (entry.name.endsWith('.json') || entry.name.endsWith('.properties')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => ({ name, data: readFileSync(resolve(path, name)) }));
}

/** Reads the files a report names, only inside `allowed` folders, never `protectedFiles`. */
export function allowedFiles(folder, allowed, protectedFiles) {
  const base = folder ?? process.cwd();
  const roots = allowed.map((d) => realOrNull(pathOf(d))).filter((d) => d !== null);
  const guarded = new Set(
    protectedFiles.flatMap((p) => ['', '.tmp'].map((s) => realOrNull(resolve(pathOf(p)) + s))).filter(Boolean),
  );
  const locate = (name) => {
    const real = realOrNull(isAbsolute(name) ? name : resolve(base, name));
    if (real === null) return { error: `${name}: not found` };
    if (!roots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep))) {
      return { error: `${name}: outside the allowed folders (allowedDirs)` };
    }
    if (guarded.has(real)) return { error: `${name}: the state file is never uploaded` };
    return { real };
  };
  return {
    size(name) {
      const { real } = locate(name);
      if (!real) return null;
      try {
        const info = statSync(real);
        return info.isFile() ? info.size : null;
      } catch {
        return null;
      }
    },
    read(name) {
      const { real, error } = locate(name);
      if (!real) return { error };
      let fd;
      try {
        fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
      } catch (e) {
        return { error: `${name}: ${e.code ?? 'cannot be opened'}` };
      }
      try {
        const info = fstatSync(fd);
        if (!info.isFile()) return { error: `${name}: not a regular file` };
        const data = new Uint8Array(info.size);
        let at = 0;
        while (at < data.length) {
          const n = readSync(fd, data, at, data.length - at, null);
          if (n === 0) break;
          at += n;
        }
        return { data: data.subarray(0, at) };
      } finally {
        closeSync(fd);
      }
    },
  };
}
