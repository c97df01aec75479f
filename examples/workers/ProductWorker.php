<?php

declare(strict_types=1);

namespace Examples\Workers;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/**
 * Product import and export for a shop (the seed's Examples 1 and 2).
 *
 * import: reads the CSV named by the `file` option, a file uploaded to sTask
 *         (`uploads/<name>`; any other path fails the task, see UploadedFiles) (header row skipped
 *         unless `skip_first_row` is false); without `file` it simulates
 *         `rows` rows (default 200); `pace_ms` slows each row down (for the demo). Progress is reported on every row; the
 *         summary goes into the task result and the engine completes it.
 * export: writes the catalogue, filtered by `filters` (category_id,
 *         active) and limited to `fields`, to a CSV file in the storage
 *         folder and finishes the task with that path as its result.
 */
class ProductWorker extends BaseWorker
{
    use UploadedFiles;

    private const FIELDS = ['id', 'sku', 'name', 'price', 'stock', 'category_id', 'active'];

    public function identifier(): string
    {
        return 'product';
    }

    public function scope(): string
    {
        return 'scommerce';
    }

    public function icon(): string
    {
        return '<i class="fa fa-box"></i>';
    }

    public function title(): string
    {
        return 'Products';
    }

    public function description(): string
    {
        return 'Imports products from CSV files and exports the catalogue to CSV.';
    }

    public function taskImport(sTaskModel $task, array $options = []): void
    {
        $path = null;
        if (isset($options['file'])) {
            try {
                $path = self::uploadedFile(is_scalar($options['file']) ? (string) $options['file'] : '');
            } catch (\RuntimeException $e) {
                // Refused for good: retrying would not make the path acceptable.
                $this->markFailed($task, 'Import ' . $e->getMessage());

                return;
            }
        }
        $rows = $path !== null
            ? $this->readCsv($path, (string) ($options['delimiter'] ?? ','), (bool) ($options['skip_first_row'] ?? true))
            : $this->simulatedRows(max(0, (int) ($options['rows'] ?? 200)));

        $total = count($rows);
        $created = 0;
        $updated = 0;
        foreach ($rows as $i => $row) {
            // A real shop would upsert here; the example only counts what it would do.
            (($row['id'] ?? '') !== '' && ($options['update_existing'] ?? true)) ? $updated++ : $created++;
            if (($options['pace_ms'] ?? 0) > 0) {
                usleep((int) $options['pace_ms'] * 1000); // demo only: makes progress visible
            }
            $processed = $i + 1;
            $this->pushProgress($task, [
                'processed' => $processed,
                'total' => $total,
                'progress' => intdiv($processed * 100, max($total, 1)),
                'message' => "Imported {$processed} of {$total} products",
            ]);
        }

        $task->update(['result' => [
            'source' => $options['file'] ?? 'simulated',
            'rows' => $total,
            'created' => $created,
            'updated' => $updated,
        ]]);
    }

    public function taskExport(sTaskModel $task, array $options = []): void
    {
        $fields = array_values(array_intersect((array) ($options['fields'] ?? self::FIELDS), self::FIELDS)) ?: self::FIELDS;
        $filters = (array) ($options['filters'] ?? []);
        $products = array_values(array_filter(
            $this->simulatedRows(50),
            static fn (array $p): bool => (!isset($filters['category_id']) || $p['category_id'] === (int) $filters['category_id'])
                && (!isset($filters['active']) || $p['active'] === (bool) $filters['active'])
        ));

        $dir = function_exists('storage_path') ? storage_path('stask/exports') : sys_get_temp_dir() . '/stask-exports';
        if (!is_dir($dir) && !mkdir($dir, 0775, true) && !is_dir($dir)) {
            throw new \RuntimeException("cannot create the export folder {$dir}");
        }
        $path = $dir . "/products_{$task->id}.csv";
        $out = fopen($path, 'wb');
        if ($out === false) {
            throw new \RuntimeException("cannot write {$path}");
        }
        fputcsv($out, $fields);
        $total = count($products);
        foreach ($products as $i => $product) {
            fputcsv($out, array_map(static fn (string $f) => is_bool($product[$f]) ? (int) $product[$f] : $product[$f], $fields));
            $this->pushProgress($task, [
                'processed' => $i + 1,
                'total' => $total,
                'progress' => intdiv(($i + 1) * 100, max($total, 1)),
                'message' => 'Exporting products...',
            ]);
        }
        fclose($out);

        $this->markFinished($task, $path, "Exported {$total} products");
    }

    /** @return list<array<string, string>> */
    private function readCsv(string $file, string $delimiter, bool $skipFirstRow): array
    {
        if (!is_file($file) || !is_readable($file)) {
            throw new \RuntimeException("import file not found or not readable: {$file}");
        }
        $in = fopen($file, 'rb');
        $header = null;
        $rows = [];
        while (($line = fgetcsv($in, null, $delimiter !== '' ? $delimiter : ',')) !== false) {
            if ($line === [null]) {
                continue; // blank line
            }
            if ($skipFirstRow && $header === null) {
                $header = array_map('trim', $line);
                continue;
            }
            $rows[] = $header !== null && count($header) === count($line) ? array_combine($header, $line) : $line;
        }
        fclose($in);

        return $rows;
    }

    /** A deterministic catalogue: every 5th category, every 7th inactive. */
    private function simulatedRows(int $count): array
    {
        $rows = [];
        for ($id = 1; $id <= $count; $id++) {
            $rows[] = [
                'id' => $id,
                'sku' => sprintf('SKU-%04d', $id),
                'name' => "Product {$id}",
                'price' => number_format(9.99 + $id, 2, '.', ''),
                'stock' => ($id * 7) % 40,
                'category_id' => $id % 5 + 1,
                'active' => $id % 7 !== 0,
            ];
        }

        return $rows;
    }
}
