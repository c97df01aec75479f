<?php

declare(strict_types=1);

namespace Examples\Workers;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/**
 * Synchronises products from a supplier CSV (the seed's Quick Start).
 *
 * import: options file (a file uploaded to sTask, `uploads/<name>`), delimiter (default ","), skip_first_row (default
 *         true). Rows without a SKU are skipped; the task is finished with
 *         the number of synced and skipped rows.
 */
class ProductSyncWorker extends BaseWorker
{
    use UploadedFiles;

    public function identifier(): string
    {
        return 'product_sync';
    }

    public function scope(): string
    {
        return 'scommerce';
    }

    public function icon(): string
    {
        return '<i class="fa fa-sync"></i>';
    }

    public function description(): string
    {
        return 'Synchronises products from a supplier CSV file.';
    }

    public function taskImport(sTaskModel $task, array $options = []): void
    {
        // Only files uploaded to sTask (see UploadedFiles for why).
        try {
            $file = self::uploadedFile((string) ($options['file'] ?? ''));
        } catch (\RuntimeException $e) {
            $this->markFailed($task, 'Import ' . $e->getMessage());

            return;
        }
        $delimiter = (string) ($options['delimiter'] ?? ',');
        $lines = array_values(array_filter(
            file($file, FILE_IGNORE_NEW_LINES) ?: [],
            static fn (string $l): bool => trim($l) !== ''
        ));
        if ($options['skip_first_row'] ?? true) {
            array_shift($lines);
        }

        $total = count($lines);
        $synced = 0;
        foreach ($lines as $i => $line) {
            if (($options['pace_ms'] ?? 0) > 0) {
                usleep((int) $options['pace_ms'] * 1000); // demo only: makes progress visible
            }
            $sku = trim((string) (str_getcsv($line, $delimiter)[0] ?? ''));
            if ($sku !== '') {
                $synced++;
            }
            $this->pushProgress($task, [
                'processed' => $i + 1,
                'total' => $total,
                'progress' => intdiv(($i + 1) * 100, max($total, 1)),
                'message' => "Synchronising {$sku}",
            ]);
        }
        $skipped = $total - $synced;

        $this->markFinished($task, null, "Synced {$synced} products ({$skipped} skipped)");
    }
}
