import open from "open";

/** Best effort: a browser that cannot start is no failure, the URL is printed anyway. */
export async function openBrowser(url: string): Promise<boolean> {
  try {
    const child = await open(url, { wait: false });
    child.on("error", () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
