// The service worker only opens the side panel from the toolbar button; the panel does
// the work. Set-up opens on install so that the user grants access to their own hosts.
chrome.sidePanel.setPanelBehavior({ openPanelOnActionClick: true }).catch((e) => console.warn('tmbridge: side panel:', e));

chrome.runtime.onInstalled.addListener(({ reason }) => {
  if (reason === 'install') chrome.runtime.openOptionsPage();
});
