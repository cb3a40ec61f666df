import { useState } from "react";
import { Button } from "@/shared/ui/button";
import { inputClass } from "@/shared/ui/field";

/** The new token, shown this once: copy it now. "Done" (or leaving the page) forgets it. */
export function CreatedToken({ name, token, onDone }: { name: string; token: string; onDone: () => void }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(token);
      setCopied("yes");
    } catch {
      setCopied("no");
    }
  }
  return (
    <section
      aria-labelledby="created-token"
      className="flex flex-col gap-2 rounded-lg border-2 border-amber-500 bg-amber-50 p-4 dark:border-amber-400 dark:bg-amber-950"
    >
      <h2 id="created-token" className="text-lg font-semibold text-amber-950 dark:text-amber-50">
        Token “{name}” created
      </h2>
      <p className="text-sm text-amber-950 dark:text-amber-100">
        Copy it now: this is the only time it is shown. Orchestra keeps only its hash.
      </p>
      <div className="flex flex-wrap gap-2">
        <input
          readOnly
          autoComplete="off"
          spellCheck={false}
          aria-label="The new token"
          value={token}
          className={`${inputClass} min-w-0 flex-1 font-mono`}
          onFocus={(event) => event.target.select()}
        />
        <Button variant="secondary" onClick={() => void copy()}>
          Copy
        </Button>
        <Button onClick={onDone}>Done</Button>
      </div>
      <p role="status" className="text-xs text-amber-950 dark:text-amber-100">
        {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "Could not copy: select it and copy by hand." : ""}
      </p>
    </section>
  );
}
