<?php

namespace App\Workers;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/**
 * Writes a small CSV under storage/stask/exports and finishes with its path
 * as the result, so the HTTP adapter's download route has a file to stream.
 */
class ExportWorker extends BaseWorker
{
    public const IDENTIFIER = 'report';

    public function identifier(): string
    {
        return self::IDENTIFIER;
    }

    public function taskCsv(sTaskModel $task, array $options = []): void
    {
        $dir = storage_path('stask/exports');
        if (!is_dir($dir)) {
            mkdir($dir, 0775, true);
        }
        $path = $dir . '/report_' . $task->id . '.csv';
        $rows = max(1, (int) ($options['rows'] ?? 3));
        $out = "n,square\n";
        for ($i = 1; $i <= $rows; $i++) {
            $out .= $i . ',' . ($i * $i) . "\n";
        }
        file_put_contents($path, $out);
        $this->markFinished($task, $path, 'report written');
    }
}
