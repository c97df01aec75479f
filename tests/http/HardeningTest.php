<?php

declare(strict_types=1);

namespace Stask\HttpTests;

use Seiger\sTask\Models\sTaskModel;

/**
 * Issue 11 over real HTTP through php/public/index.php: names that are not
 * UTF-8 (a panic and a 500 before), NUL bytes in filters (a 500 on
 * PostgreSQL), and downloads of the engine's own files (the SQLite WAL was
 * served with its pages).
 */
final class HardeningTest extends HttpTestCase
{
    public function testAQueryNameThatIsNotUtf8IsA400EvenBeforeAuthentication(): void
    {
        foreach ([[], ['authorization' => null]] as $headers) {
            foreach (['/stask/health?%ff=1', '/stask/tasks?a%c3=1', '/stask/tasks?x[%fe]=1'] as $target) {
                $r = $this->request('GET', $target, null, $headers);
                $this->assertError($r, 400, 'Bad Request', $target);
            }
        }
    }

    public function testANulByteInAFilterIsA422(): void
    {
        foreach (['identifier', 'action', 'worker', 'status'] as $filter) {
            $this->fails(422, 'GET', "/tasks?{$filter}=a%00b");
        }
        $this->fails(422, 'POST', '/tasks', ['identifier' => "a\0b", 'action' => 'x']);
        $this->fails(400, 'GET', '/workers/a%00b');
    }

    public function testTheDatabaseItsJournalsSnapshotsAndChunksAreNeverDownloaded(): void
    {
        $storage = self::storage();
        $names = [];
        $dsn = (string) getenv('STASK_DSN');
        if (str_starts_with($dsn, 'sqlite://')) {
            // The server's own database lives in the storage folder (its default place).
            $db = substr($dsn, strlen('sqlite://'));
            $this->assertStringStartsWith($storage, $db);
            $this->assertFileExists($db . '-wal', 'the server runs in WAL mode');
            $base = basename($db);
            $names = [$base, "{$base}-wal", "{$base}-shm", "{$base}-journal", $db . '-wal', ['file' => "{$base}-wal"], ['path' => $db]];
        }
        $snapshot = 900000 + random_int(0, 99999);
        file_put_contents("{$storage}/{$snapshot}.json", '{"id":' . $snapshot . '}');
        @mkdir("{$storage}/uploads/.chunks/abc", 0775, true);
        file_put_contents("{$storage}/uploads/.chunks/abc/000000.part", 'chunk');
        $names = array_merge($names, ["{$snapshot}.json", "{$storage}/{$snapshot}.json", 'uploads/.chunks/abc/000000.part', 'uploads/.chunks', 'uploads']);
        foreach ($names as $result) {
            $id = sTaskModel::create(['identifier' => 'http_dl', 'action' => 'export', 'status' => 30, 'result' => $result])->id;
            $r = $this->send('GET', "/tasks/{$id}/download");
            $this->assertError($r, 404, 'Export file not found', json_encode($result));
        }
    }
}
