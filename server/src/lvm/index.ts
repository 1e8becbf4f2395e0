// Entry point of the LVM configuration/metadata language: owned by the LVM issue.
import type { LanguageService, ServiceSettings } from '../service';

export function createLvmService(_settings: ServiceSettings): LanguageService {
  return {
    async validate() {
      throw new Error('LVM validation is not implemented yet');
    },
  };
}
