/** Offer ``text`` as a file download named ``name`` (a Blob URL: nothing is parsed or rendered). */
export function downloadText(name: string, text: string, type = "application/yaml"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
