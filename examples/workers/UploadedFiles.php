<?php

declare(strict_types=1);

namespace Examples\Workers;

use Seiger\sTask\Facades\sTask;

/**
 * Resolves a file a task names to a file in sTask's uploads folder
 * (`<storage>/uploads`, where the upload routes store files), or refuses it.
 *
 * Why: a task's options come from whoever may create tasks: a manager in the
 * module, a holder of the API token, any code calling sTask::create(). An
 * example that opened whatever path it was given would read `/etc/passwd`,
 * `.env` or the SQLite database for them and print its lines into the task
 * log, which the API serves back. Imports only need files that were uploaded
 * for them, so the path is resolved (realpath: `..` and symlinks followed)
 * and must end up inside the uploads folder; the chunks of unfinished
 * uploads are not files yet and are refused too.
 */
trait UploadedFiles
{
    /**
     * `uploads/<name>` (as the upload routes answer), a bare `<name>`, or an
     * absolute path inside the uploads folder; the real path of the file.
     *
     * @throws \RuntimeException with the reason, when the file is refused
     */
    protected static function uploadedFile(string $file): string
    {
        $storage = (string) (sTask::config()['storage_path'] ?? '');
        $root = $storage === '' ? false : realpath($storage . '/uploads');
        $shown = self::shownName($file);
        if ($root === false) {
            throw new \RuntimeException("file refused: '{$shown}': nothing has been uploaded yet (sTask's uploads folder does not exist)");
        }
        if ($file === '' || str_contains($file, "\0")) {
            throw new \RuntimeException("file refused: '{$shown}' is not a file name");
        }
        $candidate = match (true) {
            str_starts_with($file, '/') => $file,
            str_starts_with($file, 'uploads/') => $root . '/' . substr($file, strlen('uploads/')),
            default => $root . '/' . $file,
        };
        $real = realpath($candidate);
        if ($real === false || !str_starts_with($real, $root . '/') || str_starts_with($real, $root . '/.chunks/')) {
            throw new \RuntimeException(
                "file refused: '{$shown}' is not a file in sTask's uploads folder; a task may only read files uploaded for it (uploads/<name>)"
            );
        }
        if (!is_file($real) || !is_readable($real)) {
            throw new \RuntimeException("file refused: '{$shown}' is not a readable file in sTask's uploads folder");
        }

        return $real;
    }

    /** The name as given, printable and short (it goes into the task log). */
    private static function shownName(string $file): string
    {
        $clean = mb_scrub(str_replace(["\0", "\r", "\n", "\t"], '?', $file), 'UTF-8');

        return mb_strlen($clean, 'UTF-8') > 200 ? mb_substr($clean, 0, 200, 'UTF-8') . '…' : $clean;
    }
}
