// The viewer's strings come from the locale files (`Resources/locales/<language>.json`, group `viewer`), which the
// page embeds as JSON for its language (<html lang>); a missing string shows its key.

function embeddedStrings() {
  const node = document.getElementById('viewer-strings');
  if (!node) return {};
  try {
    return JSON.parse(node.textContent);
  } catch {
    return {};
  }
}

const STRINGS = embeddedStrings();

export const language = document.documentElement.lang || 'zh-CN';

export function t(key) {
  return STRINGS[key] ?? key;
}
