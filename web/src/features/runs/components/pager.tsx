import { PAGE_SIZE } from "@/features/runs/api/list-search";
import { Button } from "@/shared/ui/button";

type Props = { label: string; page: number; total: number; onPage: (page: number) => void };

/** "26–50 of 60" with Previous and Next: the server's pages of PAGE_SIZE. */
export function Pager({ label, page, total, onPage }: Props) {
  const first = total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1;
  const last = Math.min(page * PAGE_SIZE, total);
  const lastPage = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return (
    <nav aria-label={label} className="flex items-center justify-between gap-4 text-sm">
      <span aria-live="polite">
        {first}–{last} of {total}
      </span>
      <div className="flex gap-2">
        <Button variant="secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          Previous
        </Button>
        <Button variant="secondary" disabled={page >= lastPage} onClick={() => onPage(page + 1)}>
          Next
        </Button>
      </div>
    </nav>
  );
}
