// Values we know for string settings. Our own lists, compiled from lvm2's documented behaviour.
// `rejected`: lvm2 refuses to start with any other value (checked against lvmconfig in the tests);
// otherwise lvm2 falls back to a default and we only warn.
export interface Enumeration {
  values: readonly string[];
  caseInsensitive?: boolean;
  rejected?: boolean;
}

export const ENUMERATIONS: Record<string, Enumeration> = {
  'activation/readahead': { values: ['auto', 'none'], caseInsensitive: true, rejected: true },
  'activation/activation_mode': { values: ['complete', 'degraded', 'partial'], rejected: true },
  'activation/raid_fault_policy': { values: ['warn', 'allocate'] },
  'activation/mirror_image_fault_policy': { values: ['remove', 'allocate', 'allocate_anywhere'] },
  'activation/mirror_log_fault_policy': { values: ['remove', 'allocate', 'allocate_anywhere'] },
  'activation/mirror_device_fault_policy': { values: ['remove', 'allocate', 'allocate_anywhere'] },
  'allocation/cache_mode': { values: ['writethrough', 'writeback', 'passthrough'] },
  'allocation/cache_pool_cachemode': { values: ['writethrough', 'writeback', 'passthrough'] },
  'allocation/cache_policy': { values: ['smq', 'mq', 'cleaner'] },
  'allocation/thin_pool_discards': { values: ['ignore', 'nopassdown', 'passdown'] },
  'allocation/thin_pool_chunk_size_policy': { values: ['generic', 'performance'] },
  'allocation/vdo_write_policy': { values: ['auto', 'sync', 'async', 'async-unsafe'] },
  'devices/external_device_info_source': { values: ['none', 'udev'] },
  'devices/hints': { values: ['all', 'none'] },
  'devices/md_component_checks': { values: ['auto', 'start', 'full'] },
  'devices/search_for_devnames': { values: ['none', 'auto', 'all'] },
  'global/mirror_segtype_default': { values: ['raid1', 'mirror'] },
  'global/raid10_segtype_default': { values: ['raid10', 'mirror'] },
  'global/sparse_segtype_default': { values: ['thin', 'snapshot'] },
  'global/system_id_source': { values: ['none', 'lvmlocal', 'uname', 'machineid', 'appmachineid', 'file'] },
  'report/output_format': { values: ['basic', 'json', 'json_std'] },
  'log/journal': { values: ['command', 'output', 'debug'] },
  'log/debug_classes': { values: ['memory', 'devices', 'io', 'activation', 'allocation', 'metadata', 'cache', 'locking', 'lvmpolld', 'dbus'] },
};

/** global/units: an optional positive number then one unit letter (4k, 1.5G, r, H). */
export function isValidUnits(s: string): boolean {
  const m = /^(\d+\.?\d*(?:[eE][+-]?\d+)?)?([hHbBsSkKmMgGtTpPeErR])$/.exec(s);
  if (!m) return false;
  return m[1] === undefined || Number(m[1]) > 0;
}

export const BOOL_WORDS = ['y', 'yes', 'on', 'true', 'n', 'no', 'off', 'false'];

export function isBoolWord(s: string): boolean {
  return BOOL_WORDS.includes(s.toLowerCase());
}

/**
 * report/time_format, as lvm2 checks it at start-up: printable characters, and after each '%'
 * one strftime conversion lvm2 allows (no %n), or %E / %O with the letters those modifiers take.
 * Returns what is wrong, or undefined.
 */
export function timeFormatProblem(s: string): string | undefined {
  if (s === '') return 'lvm2 refuses an empty time format';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '%') {
      if (c < ' ' || c > '~') return `lvm2 refuses a time format with a non-printable character (at ${i + 1})`;
      continue;
    }
    let allowed = 'aAbBcCdDeFGghHIjklmMpPrRsStTuUVwWxXyYzZ%';
    let conv = s[++i] ?? '';
    if (conv === 'E' || conv === 'O') {
      allowed = conv === 'E' ? 'cCxXyY' : 'deHImMSuUVwWy';
      conv = s[++i] ?? '';
      if (!conv || !allowed.includes(conv)) return `lvm2 refuses "%${s[i - 1]}${conv}" in a time format: after %${s[i - 1]} it allows only ${allowed.split('').join(' ')}`;
      continue;
    }
    if (!conv) {
      return s.endsWith('%%')
        ? 'lvm2 refuses a time format that ends in %%: it reads the second % as the start of another conversion'
        : 'lvm2 refuses a time format that ends in a lone %';
    }
    if (!allowed.includes(conv)) {
      return `lvm2 refuses "%${conv}" in a time format; it allows ${allowed.split('').map((x) => `%${x}`).join(' ')}, and %E and %O forms`;
    }
    // lvm2 quirk: the second '%' of "%%" starts a conversion again, so "%%" must be followed by one.
    if (conv === '%') i--;
  }
  return undefined;
}
