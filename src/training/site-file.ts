import { readFile } from 'node:fs/promises';
import { parseSite, type Site } from '../models/positioning/site.js';

export class SiteFileError extends Error {
  override readonly name = 'SiteFileError';
}

/** Reads and validates a site file; the error names the file and the first offending field. */
export async function readSiteFile(path: string): Promise<Site> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SiteFileError(`cannot read site file ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SiteFileError(`site file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = parseSite(value);
  if (!parsed.ok) throw new SiteFileError(`site file ${path} is invalid: ${parsed.error}`);
  return parsed.site;
}
