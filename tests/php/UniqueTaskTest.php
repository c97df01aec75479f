<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Exceptions\InvalidArgumentException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

final class UniqueTaskTest extends TestCase
{
    public function testCreateWithAUniqueKeyReturnsTheActiveTaskInsteadOfADuplicate(): void
    {
        $first = sTask::create(identifier: 'product', action: 'import', data: ['file' => 'a.csv'], unique: 'import-a');
        $second = sTask::create(identifier: 'product', action: 'import', data: ['file' => 'a.csv'], unique: 'import-a');
        $other = sTask::create(identifier: 'product', action: 'import', unique: 'import-b');

        $this->assertSame($first->id, $second->id);
        $this->assertNotSame($first->id, $other->id);
        $this->assertSame(2, sTaskModel::query()->count());
        $this->assertSame('import-a', $second->unique_key);
    }

    public function testAFinishedTaskFreesItsUniqueKey(): void
    {
        $first = sTask::create(identifier: 'product', action: 'import', unique: 'nightly');
        sTask::cancel($first->id);

        $again = sTask::create(identifier: 'product', action: 'import', unique: 'nightly');

        $this->assertNotSame($first->id, $again->id);
        $this->assertTrue($again->isPending());
    }

    public function testAnEmptyUniqueKeyIsRejected(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('unique');
        sTask::create(identifier: 'product', action: 'import', unique: '   ');
    }
}
