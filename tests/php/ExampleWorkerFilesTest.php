<?php

declare(strict_types=1);

namespace Stask\Tests;

use Examples\Workers\EmailCampaignWorker;
use Examples\Workers\ProductSyncWorker;
use Examples\Workers\ProductWorker;
use Seiger\sTask\Facades\sTask;

/**
 * Issue 11 #8: the example workers read only files uploaded to sTask
 * (storage/uploads). Any other path a request names fails the task with the
 * reason, and nothing of the file reaches the task's message, log or result.
 */
final class ExampleWorkerFilesTest extends TestCase
{
    private string $uploads;

    protected function setUp(): void
    {
        parent::setUp();
        $this->uploads = $this->staskStorage . '/uploads';
        mkdir($this->uploads . '/.chunks/0123456789abcdef0123456789abcdef', 0775, true);
        foreach ([ProductWorker::class, ProductSyncWorker::class, EmailCampaignWorker::class] as $class) {
            $this->activeWorker($class);
        }
        $secret = "root:x:0:0:SECRET-LINE\nsecond,SECRET-LINE\n";
        file_put_contents($this->root . '/secret.csv', $secret);
        file_put_contents($this->staskStorage . '/secret.csv', $secret);
        file_put_contents($this->uploads . '/.chunks/0123456789abcdef0123456789abcdef/000000.part', $secret);
        symlink($this->root . '/secret.csv', $this->uploads . '/link.csv');
        symlink($this->root, $this->uploads . '/outside');
        file_put_contents($this->uploads . '/ok.csv', "sku,name\nA-1,Chair\nA-2,Table\n");
    }

    /** @return array<string, array{string}> */
    public static function hostilePaths(): array
    {
        return [
            'absolute system file' => ['/etc/passwd'],
            'absolute, outside the uploads' => ['{root}/secret.csv'],
            'the storage folder itself' => ['{storage}/secret.csv'],
            'dot-dot out of uploads' => ['uploads/../secret.csv'],
            'dot-dot from a bare name' => ['../../secret.csv'],
            'absolute with dot-dot' => ['{uploads}/../secret.csv'],
            'symlink to a file outside' => ['uploads/link.csv'],
            'through a symlinked folder' => ['outside/secret.csv'],
            'an unfinished upload chunk' => ['.chunks/0123456789abcdef0123456789abcdef/000000.part'],
            'the SQLite database' => ['uploads/../stask.sqlite'],
            'the uploads folder' => ['uploads/'],
            'a NUL byte' => ["ok.csv\0.txt"],
            'empty' => [''],
            'proc' => ['/proc/self/environ'],
            'php stream wrapper' => ['php://filter/resource=/etc/passwd'],
        ];
    }

    private function expand(string $path): string
    {
        return strtr($path, ['{root}' => $this->root, '{storage}' => $this->staskStorage, '{uploads}' => $this->uploads]);
    }

    /** @dataProvider hostilePaths */
    public function testEveryExampleRefusesAPathOutsideTheUploads(string $path): void
    {
        $path = $this->expand($path);
        $ids = [
            sTask::create('product', 'import', ['file' => $path])->id,
            sTask::create('product_sync', 'import', ['file' => $path])->id,
            sTask::create('email_campaign', 'send', ['recipients' => [['email' => 'a@example.com']], 'attachments' => [$path]])->id,
        ];
        $this->drain();
        foreach ($ids as $id) {
            $task = $this->task($id);
            $this->assertSame('failed', $task->status_text, "#{$id} {$task->identifier}: {$task->message}");
            $this->assertStringContainsString('file refused', (string) $task->message, "#{$id} {$task->identifier}");
            $seen = json_encode([$task->message, $task->result, $task->last_error, sTask::progress($id)]);
            $this->assertStringNotContainsString('SECRET-LINE', (string) $seen);
            $this->assertStringNotContainsString('root:x', (string) $seen);
            $this->assertSame(1, $task->attempts, 'a refused path is not retried');
        }
    }

    public function testUploadedFilesAreReadByTheirUploadName(): void
    {
        $product = sTask::create('product', 'import', ['file' => 'uploads/ok.csv'])->id;
        $sync = sTask::create('product_sync', 'import', ['file' => 'ok.csv'])->id;
        $mail = sTask::create('email_campaign', 'send', [
            'recipients' => [['email' => 'a@example.com']],
            'attachments' => [$this->uploads . '/ok.csv'],
        ])->id;
        $this->drain();
        $this->assertSame(['completed', 2], [$this->task($product)->status_text, $this->task($product)->result['rows']]);
        $this->assertSame('Synced 2 products (0 skipped)', $this->task($sync)->message);
        $this->assertSame('completed', $this->task($mail)->status_text, (string) $this->task($mail)->message);
    }
}
